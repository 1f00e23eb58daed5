"""One audit event: who changed what, with the values before and after."""

from __future__ import annotations

import json
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static, TextArea

from modulacms.core.models import ChangeEvent
from modulacms.tui.text import plain


def _pretty(values: dict[str, object] | None) -> str:
    return "(none)" if values is None else json.dumps(values, indent=2, ensure_ascii=False)


class EventDetailModal(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q", "dismiss(None)", "Close")]

    def __init__(self, event: ChangeEvent) -> None:
        super().__init__(classes="dialog")
        self.event = event

    def compose(self) -> ComposeResult:
        e = self.event
        who = e.actor_name or e.actor_id or e.actor_kind
        with Vertical(classes="dialog-box tall wide"):
            yield Static(
                plain(f"{e.operation} {e.table_name} {e.record_id}", "bold"),
                classes="dialog-title",
            )
            yield Static(
                plain(f"{e.date_created} by {who} ({e.actor_kind})"), classes="dialog-body"
            )
            text = f"before:\n{_pretty(e.old_values)}\n\nafter:\n{_pretty(e.new_values)}\n"
            yield TextArea(text, read_only=True, id="event-text")

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()
