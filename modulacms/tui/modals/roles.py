"""The roles and the permissions each one grants."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from modulacms.core.people import Role
from modulacms.tui.base import ServiceModal
from modulacms.tui.text import plain


class RolesModal(ServiceModal[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q", "dismiss(None)", "Close")]

    def __init__(self) -> None:
        super().__init__(classes="dialog")
        self.roles: list[Role] = []

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box tall wide"):
            yield Static("[b]Roles[/b]", classes="dialog-title")
            yield DataTable(cursor_type="row", id="roles-table")
            yield Static("", id="role-permissions", classes="dialog-body")

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns("name", "label", "kind", "permissions")
        users, actor = self.services.users, self.actor
        self.call("roles", lambda: users.roles(actor), self._show)

    def _show(self, roles: list[Role]) -> None:
        self.roles = roles
        table = self.query_one(DataTable)
        for r in roles:
            kind = "built-in" if r.system else "custom"
            table.add_row(
                plain(r.name), plain(r.label), kind, str(len(r.permissions)), key=r.role_id
            )
        table.focus()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        row = event.cursor_row
        if 0 <= row < len(self.roles):
            labels = ", ".join(sorted(self.roles[row].permissions))
            self.query_one("#role-permissions", Static).update(plain(labels or "(no permissions)"))
