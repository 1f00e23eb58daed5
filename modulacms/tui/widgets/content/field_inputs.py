"""One input widget per field type, each with its label and an error line.

Every ``FieldInput`` shows a stored value (the canonical text the services keep), tells
whether the editor changed it, and hands back what to send: text as typed (an empty
input clears the value), booleans as ``True``/``False``. Checking the value is left to
the services, whose messages appear on the field's error line.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static, Switch, TextArea

from modulacms.core.models import DatatypeField, FieldType
from modulacms.tui.text import esc

_PLACEHOLDERS: dict[FieldType, str] = {
    FieldType.DATE: "YYYY-MM-DD",
    FieldType.DATETIME: "2026-01-31T09:30:00Z",
    FieldType.EMAIL: "name@example.com",
    FieldType.URL: "https://…",
    FieldType.SLUG: "lowercase-with-hyphens",
    FieldType.MEDIA: "media id, or pick →",
    FieldType.REFERENCE: "content id, or pick →",
}
_RESTRICT: dict[FieldType, str] = {
    FieldType.DATE: r"[0-9-]*",
    FieldType.DATETIME: r"[0-9TZtz:.+\- ]*",
    FieldType.SLUG: r"[a-z0-9-]*",
}


def describe_rules(df: DatatypeField) -> str:
    """A short hint of a field's type and rules, for its label line."""
    rules = df.field.validation
    parts = [df.field.type.value]
    if "min_length" in rules or "max_length" in rules:
        parts.append(f"{rules.get('min_length', 0)}–{rules.get('max_length', '∞')} chars")
    if "min" in rules or "max" in rules:
        parts.append(f"{rules.get('min', '-∞')}…{rules.get('max', '∞')}")
    if rules.get("integer"):
        parts.append("whole")
    if rules.get("target"):
        parts.append(f"→ {rules['target']}")
    if df.field.type is FieldType.RICHTEXT:
        parts.append("^t preview")
    return ", ".join(parts)


class FieldInput(Vertical):
    """A labelled editor for one field of a node."""

    DEFAULT_CSS = """
    FieldInput { height: auto; margin-bottom: 1; }
    FieldInput .field-label { width: 1fr; height: 1; }
    FieldInput .field-error { color: $error; height: auto; display: none; }
    FieldInput.-invalid .field-error { display: block; }
    FieldInput.-invalid .field-label { color: $error; }
    FieldInput.-changed .field-label { text-style: bold; }
    """

    def __init__(self, df: DatatypeField, stored: str | None) -> None:
        super().__init__(id=f"field-{df.field.name}", classes="field-input")
        self.df = df
        self.original = self.shown(stored)

    @property
    def name_(self) -> str:
        return self.df.field.name

    def compose(self) -> ComposeResult:
        required = " *" if self.df.required else ""
        label = esc(self.df.field.label or self.name_)
        rules = esc(describe_rules(self.df))
        yield Label(f"{label}{required} [dim]({rules})[/]", classes="field-label")
        yield from self.compose_editor()
        yield Static("", classes="field-error")

    def compose_editor(self) -> ComposeResult:
        yield Input(
            self.original,
            placeholder=_PLACEHOLDERS.get(self.df.field.type, ""),
            restrict=_RESTRICT.get(self.df.field.type),
            compact=True,
            classes="field-editor",
        )

    # values -----------------------------------------------------------------------------

    def shown(self, stored: str | None) -> str:
        """The text shown for a stored value."""
        return stored or ""

    def text(self) -> str:
        """What the editor shows now."""
        return self.query_one(".field-editor", Input).value

    def set_text(self, text: str) -> None:
        self.query_one(".field-editor", Input).value = text

    @property
    def changed(self) -> bool:
        return self.text() != self.original

    def payload(self) -> Any:
        """The value to send to the services (``None`` clears the field)."""
        text = self.text()
        return text if text.strip() else None

    def reset(self, stored: str | None) -> None:
        """Show ``stored`` as the new unchanged value."""
        self.original = self.shown(stored)
        self.set_text(self.original)
        self.set_error(None)
        self.mark()

    def mark(self) -> None:
        self.set_class(self.changed, "-changed")

    def set_error(self, message: str | None) -> None:
        self.query_one(".field-error", Static).update(message or "")
        self.set_class(message is not None, "-invalid")

    def focus_editor(self) -> None:
        self.query_one(".field-editor").focus()


class NumberInput(FieldInput):
    def compose_editor(self) -> ComposeResult:
        integer = bool(self.df.field.validation.get("integer"))
        yield Input(
            self.original,
            type="integer" if integer else "number",
            compact=True,
            classes="field-editor",
        )


class AreaInput(FieldInput):
    """Multi-line text (textarea, and json pretty-printed)."""

    DEFAULT_CSS = """
    AreaInput TextArea { height: 6; }
    """

    def compose_editor(self) -> ComposeResult:
        yield TextArea(self.original, soft_wrap=True, compact=True, classes="field-editor")

    def shown(self, stored: str | None) -> str:
        if self.df.field.type is FieldType.JSON and stored:
            try:
                return json.dumps(json.loads(stored), indent=2, ensure_ascii=False)
            except ValueError:
                return stored
        return stored or ""

    def text(self) -> str:
        return self.query_one(".field-editor", TextArea).text

    def set_text(self, text: str) -> None:
        self.query_one(".field-editor", TextArea).load_text(text)


class MarkdownInput(AreaInput):
    """Markdown source with a rendered preview (ctrl+t toggles)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+t", "toggle_preview", "Preview", tooltip="Show the rendered markdown"),
    ]
    DEFAULT_CSS = """
    MarkdownInput TextArea { height: 8; }
    MarkdownInput Markdown { height: auto; max-height: 16; border: round $panel; }
    """

    def compose_editor(self) -> ComposeResult:
        yield TextArea(self.original, soft_wrap=True, compact=True, classes="field-editor")

    def action_toggle_preview(self) -> None:
        # imported on first use: the markdown stack is not needed to open a form
        from textual.widgets import Markdown

        existing = self.query(Markdown)
        if existing:
            existing.remove()
            self.query_one(".field-editor").display = True
            self.focus_editor()
            return
        editor = self.query_one(".field-editor", TextArea)
        preview = Markdown(self.text() or "*(empty)*")
        preview.can_focus = True
        self.mount(preview, after=editor)
        editor.display = False
        preview.focus()


class BooleanInput(FieldInput):
    def compose_editor(self) -> ComposeResult:
        yield Switch(self.original == "true", classes="field-editor")

    def text(self) -> str:
        on = self.query_one(".field-editor", Switch).value
        if not on and self.original == "":
            return ""  # an untouched empty boolean stays empty rather than becoming false
        return "true" if on else "false"

    def set_text(self, text: str) -> None:
        self.query_one(".field-editor", Switch).value = text == "true"

    def payload(self) -> Any:
        return self.query_one(".field-editor", Switch).value


class SelectInput(FieldInput):
    def compose_editor(self) -> ComposeResult:
        options = [str(o) for o in self.df.field.validation.get("options") or []]
        if self.original and self.original not in options:
            options.append(self.original)  # keep showing a value the rules no longer list
        yield Select(
            [(o, o) for o in options],
            value=self.original or Select.NULL,
            allow_blank=True,
            prompt="(none)",
            compact=True,
            classes="field-editor",
        )

    def text(self) -> str:
        value = self.query_one(".field-editor", Select).value
        return "" if value is Select.NULL else str(value)

    def set_text(self, text: str) -> None:
        self.query_one(".field-editor", Select).value = text or Select.NULL


class ReferenceInput(FieldInput):
    """The id of another content node, typed or picked from a list."""

    DEFAULT_CSS = """
    ReferenceInput Horizontal { height: auto; }
    ReferenceInput Input { width: 1fr; }
    ReferenceInput Button { min-width: 8; width: auto; height: 1; border: none; }
    """

    def compose_editor(self) -> ComposeResult:
        with Horizontal():
            yield Input(
                self.original,
                placeholder=_PLACEHOLDERS[self.df.field.type],
                compact=True,
                classes="field-editor",
            )
            yield Button("Pick…", compact=True, classes="pick")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()

        def picked(chosen: str | None) -> None:
            if chosen:
                self.set_text(chosen)
                self.focus_editor()

        self.app.push_screen(self.picker(), picked)

    def picker(self) -> ModalScreen[str | None]:
        from modulacms.tui.modals.node_picker import NodePicker

        target = self.df.field.validation.get("target")
        return NodePicker(f"Pick {self.df.field.label}", datatype=target)


class MediaInput(ReferenceInput):
    """The id of a media file, typed, picked, or added from disk."""

    def picker(self) -> ModalScreen[str | None]:
        from modulacms.tui.modals.media_picker import MediaPicker

        return MediaPicker(f"Pick {self.df.field.label}")


_CLASSES: dict[FieldType, type[FieldInput]] = {
    FieldType.TEXTAREA: AreaInput,
    FieldType.JSON: AreaInput,
    FieldType.RICHTEXT: MarkdownInput,
    FieldType.NUMBER: NumberInput,
    FieldType.BOOLEAN: BooleanInput,
    FieldType.SELECT: SelectInput,
    FieldType.REFERENCE: ReferenceInput,
    FieldType.MEDIA: MediaInput,
}


def field_input(df: DatatypeField, stored: str | None) -> FieldInput:
    """The input widget suited to ``df``'s type, showing ``stored``."""
    return _CLASSES.get(df.field.type, FieldInput)(df, stored)
