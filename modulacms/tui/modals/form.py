"""A small form whose submit runs a service call; its errors land on the fields.

The form stays open while the call runs and when it fails, so nothing typed is lost;
it closes with the call's result once the call succeeds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Input, Label, Select, Static, Switch, TextArea

from modulacms.errors import ModulaError, ValidationFailed
from modulacms.tui.base import ServiceModal
from modulacms.tui.text import plain

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class FormField:
    """One input of a form; ``kind`` is text, password, area, select or switch."""

    name: str
    label: str
    kind: str = "text"
    value: str | bool = ""
    options: tuple[tuple[str, str], ...] = ()
    placeholder: str = ""
    disabled: bool = False


class FormModal(ServiceModal[T], Generic[T]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "submit", "Submit"),
    ]

    def __init__(
        self,
        title: str,
        fields: list[FormField],
        submit: Callable[[dict[str, Any]], T],
        *,
        submit_label: str = "Save",
        intro: str = "",
    ) -> None:
        super().__init__(classes="dialog")
        self.title_text, self.fields, self.submit = title, fields, submit
        self.submit_label, self.intro = submit_label, intro
        self._errors: dict[str, list[str]] = {}

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Static(plain(self.title_text, "bold"), classes="dialog-title")
            if self.intro:
                yield Static(plain(self.intro), classes="dialog-body")
            with VerticalScroll(classes="form-fields"):
                for spec in self.fields:
                    yield Label(plain(spec.label), classes="form-label")
                    yield self._widget(spec)
                    yield Static("", id=f"error-{spec.name}", classes="form-error")
            yield Static("", id="form-error", classes="form-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button(self.submit_label, variant="primary", id="submit")
                yield Button("Cancel", id="cancel")

    def _widget(self, spec: FormField) -> Input | Select[str] | Switch | TextArea:
        wid = f"input-{spec.name}"
        if spec.kind == "select":
            value = spec.value if isinstance(spec.value, str) and spec.value else Select.NULL
            return Select(
                list(spec.options), value=value, id=wid, disabled=spec.disabled, compact=True
            )
        if spec.kind == "switch":
            return Switch(bool(spec.value), id=wid, disabled=spec.disabled)
        if spec.kind == "area":
            return TextArea(str(spec.value), id=wid, disabled=spec.disabled, compact=True)
        return Input(
            str(spec.value),
            placeholder=spec.placeholder,
            password=spec.kind == "password",
            id=wid,
            disabled=spec.disabled,
            compact=True,
        )

    def on_mount(self) -> None:
        for widget in self.query(".form-fields > *"):
            if widget.can_focus and not widget.disabled:
                widget.focus()
                break

    def values(self) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for spec in self.fields:
            widget = self.query_one(f"#input-{spec.name}")
            if isinstance(widget, Select):
                result[spec.name] = None if widget.value is Select.NULL else widget.value
            elif isinstance(widget, Switch):
                result[spec.name] = widget.value
            elif isinstance(widget, TextArea):
                result[spec.name] = widget.text
            elif isinstance(widget, Input):
                result[spec.name] = widget.value
        return result

    def action_submit(self) -> None:
        values = self.values()
        self._clear_errors()
        self.call("form", lambda: self.submit(values), self.dismiss, self._failed, write=True)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "submit":
            self.action_submit()
        else:
            self.action_cancel()

    def _clear_errors(self) -> None:
        self._errors = {}
        for error in self.query(".form-error"):
            if isinstance(error, Static):
                error.update("")

    def show_error(self, name: str | None, message: str) -> None:
        """Add ``message`` under the field ``name`` (or under the whole form)."""
        target = self.query(f"#error-{name}") if name else None
        box = target.first(Static) if target else self.query_one("#form-error", Static)
        shown = self._errors.setdefault(box.id or "", [])
        shown.append(message)
        box.update(plain("\n".join(shown)))

    def _failed(self, error: ModulaError) -> bool:
        if isinstance(error, ValidationFailed) and error.errors:
            names = {spec.name for spec in self.fields}
            for item in error.errors:
                self.show_error(item.field if item.field in names else None, item.message)
            return True
        self.show_error(None, f"{error.title}: {error.message}")
        return True
