"""Someone saved the node first: show both versions and let the editor choose."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Static

from modulacms.tui.text import plain


class ConflictModal(ModalScreen[str]):
    """Dismisses with ``mine`` (save over theirs), ``theirs`` (load theirs) or ``cancel``."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss('cancel')", "Cancel"),
        Binding("m", "dismiss('mine')", "Keep mine", show=False),
        Binding("t", "dismiss('theirs')", "Take theirs", show=False),
    ]

    def __init__(
        self,
        title: str,
        rows: list[tuple[str, str, str]],
        mine_revision: int,
        their_revision: int,
    ) -> None:
        super().__init__(classes="dialog")
        self.title_text, self.rows = title, rows
        self.mine_revision, self.their_revision = mine_revision, their_revision

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box tall wide"):
            yield Static(
                plain(f"Conflict: {self.title_text} changed meanwhile", "bold"),
                classes="dialog-title",
            )
            yield Static(
                f"You edited revision {self.mine_revision}; someone saved revision "
                f"{self.their_revision} since. Fields that differ:",
                classes="dialog-body",
            )
            yield DataTable(id="conflict-table", cursor_type="row")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Keep mine (m)", variant="warning", id="mine")
                yield Button("Take theirs (t)", id="theirs")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("field", "yours", "theirs")
        for name, mine, theirs in self.rows:
            table.add_row(plain(name), _cell(mine), _cell(theirs))
        if not self.rows:
            table.add_row("(no field differs)", "", "")
        self.query_one("#cancel", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id or "cancel")


def _cell(text: str) -> Text:
    flat = text.replace("\n", " ⏎ ")
    return Text(flat[:60] + ("…" if len(flat) > 60 else "")) if flat else Text("(empty)", "dim")
