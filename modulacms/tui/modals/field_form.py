"""Create or edit a field definition: name, label, type and the type's validation rules."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Input, Label, Select, Static, Switch

from modulacms.core.models import Field, FieldType
from modulacms.core.validation import RULES_BY_TYPE
from modulacms.errors import ModulaError, ValidationFailed
from modulacms.tui.base import ServiceModal
from modulacms.tui.text import plain

# rule -> (label, kind): kind is int, number, text, list, bool or datatype
RULES: dict[str, tuple[str, str]] = {
    "min_length": ("Minimum length", "int"),
    "max_length": ("Maximum length", "int"),
    "pattern": ("Pattern (regular expression, full match)", "text"),
    "min": ("Minimum", "number"),
    "max": ("Maximum", "number"),
    "integer": ("Whole numbers only", "bool"),
    "options": ("Options (comma-separated)", "list"),
    "target": ("Referenced datatype", "datatype"),
}

Submit = Callable[[dict[str, Any]], Field]


def _parse(kind: str, text: str) -> Any:
    if kind == "int":
        return int(text)
    if kind == "number":
        number = float(text)
        return int(number) if number.is_integer() else number
    if kind == "list":
        return [part.strip() for part in text.split(",") if part.strip()]
    return text


def _shown(kind: str, value: Any) -> str:
    if value is None:
        return ""
    if kind == "list" and isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


class FieldFormModal(ServiceModal[Field | None]):
    """``submit`` receives name, label, type, translatable, required and validation."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss(None)", "Cancel"),
        Binding("ctrl+s", "submit", "Save"),
    ]

    def __init__(
        self,
        title: str,
        submit: Submit,
        *,
        field: Field | None = None,
        datatypes: list[str] | None = None,
        ask_required: bool = False,
    ) -> None:
        super().__init__(classes="dialog")
        self.title_text, self.submit, self.field = title, submit, field
        self.datatypes, self.ask_required = datatypes or [], ask_required
        self._errors: dict[str, list[str]] = {}

    def compose(self) -> ComposeResult:
        f = self.field
        rules = f.validation if f else {}
        with Vertical(classes="dialog-box tall"):
            yield Static(plain(self.title_text, "bold"), classes="dialog-title")
            with VerticalScroll():
                yield Label("Name (lowercase, a-z 0-9 _)", classes="form-label")
                yield Input(f.name if f else "", id="input-name", compact=True)
                yield Static("", id="error-name", classes="form-error")
                yield Label("Label", classes="form-label")
                yield Input(f.label if f else "", id="input-label", compact=True)
                yield Label("Type" + (" (fixed once created)" if f else ""), classes="form-label")
                yield Select(
                    [(t.value, t.value) for t in FieldType],
                    value=f.type.value if f else FieldType.TEXT.value,
                    allow_blank=False,
                    disabled=f is not None,
                    id="input-type",
                    compact=True,
                )
                yield Static("", id="error-type", classes="form-error")
                for rule, (label, kind) in RULES.items():
                    with Vertical(id=f"rule-{rule}", classes="rule"):
                        yield Label(label, classes="form-label")
                        if kind == "bool":
                            yield Switch(bool(rules.get(rule)), id=f"input-{rule}")
                        elif kind == "datatype":
                            yield Select(
                                [(d, d) for d in self.datatypes],
                                value=rules.get(rule) or Select.NULL,
                                prompt="any datatype",
                                id=f"input-{rule}",
                                compact=True,
                            )
                        else:
                            yield Input(
                                _shown(kind, rules.get(rule)), id=f"input-{rule}", compact=True
                            )
                yield Label("Translatable (one value per locale)", classes="form-label")
                yield Switch(f.translatable if f else False, id="input-translatable")
                if self.ask_required:
                    yield Label("Required in this datatype", classes="form-label")
                    yield Switch(False, id="input-required")
            yield Static("", id="error-validation", classes="form-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Save", variant="primary", id="submit")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self._show_rules()
        self.query_one("#input-name", Input).focus()

    def _type(self) -> FieldType:
        value = self.query_one("#input-type", Select).value
        return FieldType(str(value))

    def _show_rules(self) -> None:
        allowed = RULES_BY_TYPE.get(self._type(), frozenset())
        for rule in RULES:
            self.query_one(f"#rule-{rule}").display = rule in allowed

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "input-type":
            self._show_rules()

    def values(self) -> dict[str, Any] | None:
        """The form's values, or None after showing why a rule cannot be read."""
        validation: dict[str, Any] = {}
        for rule in RULES_BY_TYPE.get(self._type(), frozenset()):
            kind = RULES[rule][1]
            widget = self.query_one(f"#input-{rule}")
            if isinstance(widget, Switch):
                if widget.value:
                    validation[rule] = True
            elif isinstance(widget, Select):
                if widget.value is not Select.NULL:
                    validation[rule] = str(widget.value)
            elif isinstance(widget, Input) and widget.value.strip():
                try:
                    validation[rule] = _parse(kind, widget.value.strip())
                except ValueError:
                    self._error("validation", f"{RULES[rule][0]}: expected a number")
                    return None
        required = self.query("#input-required")
        return {
            "name": self.query_one("#input-name", Input).value.strip(),
            "label": self.query_one("#input-label", Input).value.strip(),
            "type": self._type().value,
            "translatable": self.query_one("#input-translatable", Switch).value,
            "required": bool(required and required.first(Switch).value),
            "validation": validation,
        }

    def action_submit(self) -> None:
        self._errors = {}
        for box in self.query(".form-error"):
            if isinstance(box, Static):
                box.update("")
        values = self.values()
        if values is not None:
            self.call("field", lambda: self.submit(values), self.dismiss, self._failed, write=True)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "submit":
            self.action_submit()
        else:
            self.dismiss(None)

    def _error(self, name: str, message: str) -> None:
        target = self.query(f"#error-{name}")
        box = target.first(Static) if target else self.query_one("#error-validation", Static)
        shown = self._errors.setdefault(box.id or "", [])
        shown.append(message)
        box.update(plain("\n".join(shown)))

    def _failed(self, error: ModulaError) -> bool:
        if isinstance(error, ValidationFailed) and error.errors:
            for item in error.errors:
                self._error(item.field, item.message)
            return True
        self._error("validation", f"{error.title}: {error.message}")
        return True
