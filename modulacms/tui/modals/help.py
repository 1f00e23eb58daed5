"""Every key of the current area, grouped by where it applies."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from modulacms.tui.keys import KeyHelp
from modulacms.tui.widgets.table import PlainTable

INTRO = (
    "Keys work on what has the focus (tab / shift+tab move it). ctrl+p opens the command "
    "palette, which lists every action by name."
)


class HelpModal(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,f1,q", "dismiss(None)", "Close")]

    def __init__(self, title: str, items: list[KeyHelp]) -> None:
        super().__init__(classes="dialog")
        self.title_text, self.items = title, items

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box tall wide"):
            yield Static(f"[b]Keys: {self.title_text}[/b]", classes="dialog-title")
            yield Static(INTRO, classes="dialog-body")
            yield PlainTable(cursor_type="row", zebra_stripes=True, id="help-table")

    def on_mount(self) -> None:
        table = self.query_one(PlainTable)
        table.add_columns("where", "keys", "action")
        section = ""
        for item in self.items:
            where = Text(item.section, style="bold") if item.section != section else Text("")
            section = item.section
            table.add_row(where, Text(item.keys, style="cyan"), item.description)
        table.focus()
