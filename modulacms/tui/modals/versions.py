"""A route's published versions (and autosaves), with restore into the draft."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from modulacms.core.models import ContentVersion, Route
from modulacms.tui.base import ServiceModal
from modulacms.tui.modals.confirm import ConfirmModal
from modulacms.tui.widgets.table import PlainTable


class VersionsModal(ServiceModal[int | None]):
    """Dismisses with the version number restored, or None."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss(None)", "Close"),
        Binding("enter", "restore", "Restore to draft"),
        Binding("P", "rollback", "Restore & publish"),
    ]

    def __init__(self, route: Route) -> None:
        super().__init__(classes="dialog")
        self.route = route
        self.versions: list[ContentVersion] = []

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box tall wide"):
            yield Static(f"[b]Versions of {self.route.slug}[/b]", classes="dialog-title")
            yield Static(
                "enter restores a version into the draft (the current draft is kept as an "
                "autosave) · P restores and publishes · esc closes",
                classes="dialog-body",
            )
            yield PlainTable(cursor_type="row", id="versions-table")

    def on_mount(self) -> None:
        table = self.query_one(PlainTable)
        table.add_columns("#", "kind", "when", "nodes", "note")
        route_id = self.route.route_id
        self.call("versions", lambda: self.services.publishing.versions(route_id), self._show)

    def _show(self, versions: list[ContentVersion]) -> None:
        self.versions = sorted(versions, key=lambda v: v.version, reverse=True)
        table = self.query_one(PlainTable)
        table.clear()
        for v in self.versions:
            live = " ● live" if v.version_id == self.route.published_version_id else ""
            table.add_row(
                str(v.version),
                v.kind + live,
                v.date_created[:19].replace("T", " "),
                str(v.node_count),
                v.note,
                key=str(v.version),
            )
        if not self.versions:
            self.query_one(".dialog-body", Static).update(
                "No versions yet: publish the route first."
            )
        table.focus()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_restore()

    def _chosen(self) -> ContentVersion | None:
        table = self.query_one(PlainTable)
        if not self.versions or table.cursor_row < 0:
            return None
        return self.versions[table.cursor_row]

    def action_restore(self) -> None:
        self._ask(publish=False)

    def action_rollback(self) -> None:
        self._ask(publish=True)

    def _ask(self, *, publish: bool) -> None:
        version = self._chosen()
        if version is None:
            return
        verb = "Restore and publish" if publish else "Restore"
        message = (
            f"{verb} version {version.version} of {self.route.slug}? The current draft is "
            "kept as an autosave version."
        )

        def answered(yes: bool | None) -> None:
            if yes:
                self._restore(version.version, publish)

        self.app.push_screen(ConfirmModal(f"{verb} version", message, yes=verb), answered)

    def _restore(self, number: int, publish: bool) -> None:
        route_id, actor = self.route.route_id, self.actor
        publishing = self.services.publishing

        def job() -> int:
            if publish:
                publishing.rollback(route_id, number, actor)
            else:
                publishing.restore(route_id, number, actor)
            return number

        self.call("restore", job, self.dismiss, write=True)
