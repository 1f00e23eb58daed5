"""Deleted subtrees of a route: restore them, or purge them for good."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from modulacms.core.models import Route
from modulacms.tui.base import ServiceModal
from modulacms.tui.modals.confirm import ConfirmModal
from modulacms.tui.widgets.content.labels import node_title
from modulacms.tui.widgets.table import PlainTable


@dataclass(frozen=True, slots=True)
class TrashRow:
    content_id: str
    title: str
    datatype: str
    nodes: int
    trashed_at: str


class TrashModal(ServiceModal[str | None]):
    """Dismisses with the id of a restored node, or None."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss(None)", "Close"),
        Binding("enter", "restore", "Restore"),
        Binding("x", "purge", "Purge"),
    ]

    def __init__(self, route: Route) -> None:
        super().__init__(classes="dialog")
        self.route = route
        self.rows: list[TrashRow] = []

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box tall wide"):
            yield Static(f"[b]Trash of {self.route.slug}[/b]", classes="dialog-title")
            yield Static("enter restores · x purges for good · esc closes", classes="dialog-body")
            yield PlainTable(cursor_type="row", id="trash-table")

    def on_mount(self) -> None:
        self.query_one(PlainTable).add_columns("title", "type", "nodes", "deleted")
        self.load()

    def load(self) -> None:
        content, route_id = self.services.content, self.route.route_id

        def job() -> list[TrashRow]:
            rows = []
            for entry in content.trash():
                if entry.route_id != route_id:
                    continue
                item = content.item(entry.content_data_id)
                rows.append(
                    TrashRow(
                        entry.content_data_id,
                        node_title(item.fields, item.values),
                        item.datatype.label,
                        entry.node_count,
                        entry.trashed_at,
                    )
                )
            return sorted(rows, key=lambda r: r.trashed_at, reverse=True)

        self.call("trash", job, self._show)

    def _show(self, rows: list[TrashRow]) -> None:
        self.rows = rows
        table = self.query_one(PlainTable)
        table.clear()
        for row in rows:
            when = row.trashed_at[:19].replace("T", " ")
            table.add_row(row.title, row.datatype, str(row.nodes), when, key=row.content_id)
        if not rows:
            self.query_one(".dialog-body", Static).update("The trash of this route is empty.")
        table.focus()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_restore()

    def _chosen(self) -> TrashRow | None:
        table = self.query_one(PlainTable)
        if not self.rows or table.cursor_row < 0:
            return None
        return self.rows[table.cursor_row]

    def action_restore(self) -> None:
        row = self._chosen()
        if row is None:
            return
        content, actor = self.services.content, self.actor
        self.call(
            "restore",
            lambda: content.restore(row.content_id, actor).content_data_id,
            self.dismiss,
            write=True,
        )

    def action_purge(self) -> None:
        row = self._chosen()
        if row is None:
            return
        content, actor = self.services.content, self.actor

        def answered(yes: bool | None) -> None:
            if yes:
                self.call(
                    "purge",
                    lambda: content.purge(row.content_id, actor),
                    lambda count: self._purged(count),
                    write=True,
                )

        self.app.push_screen(
            ConfirmModal(
                "Purge for good",
                f"Delete {row.title} and {row.nodes - 1} node(s) below it for good? "
                "This cannot be undone.",
                yes="Purge",
                danger=True,
            ),
            answered,
        )

    def _purged(self, count: int) -> None:
        self.notify(f"Purged {count} node(s)")
        self.load()
