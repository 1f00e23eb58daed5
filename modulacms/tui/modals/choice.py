"""Ask the editor to choose one of a few answers (e.g. save, discard or stay)."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from modulacms.tui.text import plain


class ChoiceModal(ModalScreen[str]):
    """Dismisses with the key of the chosen answer, or ``cancel`` on escape."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss('cancel')", "Cancel")]

    def __init__(self, title: str, message: str, answers: list[tuple[str, str]]) -> None:
        super().__init__(classes="dialog")
        self.title_text, self.message, self.answers = title, message, answers

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Static(plain(self.title_text, "bold"), classes="dialog-title")
            yield Static(plain(self.message), classes="dialog-body")
            with Horizontal(classes="dialog-buttons"):
                for index, (key, label) in enumerate(self.answers):
                    yield Button(
                        label, id=f"answer-{key}", variant="primary" if index == 0 else "default"
                    )

    def on_mount(self) -> None:
        self.query(Button).first().focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss((event.button.id or "answer-cancel").removeprefix("answer-"))


def unsaved_changes(what: str) -> ChoiceModal:
    """The question asked before a dirty form would be replaced."""
    return ChoiceModal(
        "Unsaved changes",
        f"{what} has changes that are not saved yet.",
        [("save", "Save"), ("discard", "Discard"), ("cancel", "Keep editing")],
    )
