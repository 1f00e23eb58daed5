"""The Activity area: the audit log, newest first, filterable by table, operation, record."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Input, Select, Static

from modulacms.core.models import ChangeEvent
from modulacms.tui.base import AreaScreen
from modulacms.tui.modals.event_detail import EventDetailModal
from modulacms.tui.widgets.area_bar import AreaBar
from modulacms.tui.widgets.table import PlainTable

PAGE = 200
TABLES = (
    "content_data",
    "routes",
    "datatypes",
    "fields",
    "datatypes_fields",
    "users",
    "roles",
    "tokens",
    "plugins",
    "sites",
)


class EventsTable(PlainTable[str]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "screen.show_event", "Details"),
        Binding("m", "screen.more", "More", tooltip="Load older events"),
        Binding("r", "screen.reload", "Reload"),
    ]


class ActivityScreen(AreaScreen):
    AREA = "activity"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "filter", "Filter", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.events: list[ChangeEvent] = []
        self.total = 0

    def compose(self) -> ComposeResult:
        yield AreaBar(self.AREA, self.modula.project_name)
        with Vertical(classes="area-body"):
            with Horizontal(classes="filter-bar"):
                yield Select(
                    [(t, t) for t in TABLES], prompt="any table", id="filter-table", compact=True
                )
                yield Input(placeholder="operation", id="filter-op", compact=True)
                yield Input(placeholder="record id", id="filter-record", compact=True)
            yield Static("Activity", id="events-title", classes="pane-title")
            yield EventsTable(cursor_type="row", id="events-table")
        yield Footer()

    @property
    def table(self) -> EventsTable:
        return self.query_one(EventsTable)

    def on_mount(self) -> None:
        self.table.add_columns("when (UTC)", "who", "table", "operation", "record")
        self.table.focus()
        self.refresh_area()

    def refresh_area(self) -> None:
        self.load(offset=0)

    def _filters(self) -> dict[str, str | None]:
        table = self.query_one("#filter-table", Select).value
        op = self.query_one("#filter-op", Input).value.strip()
        record = self.query_one("#filter-record", Input).value.strip()
        return {
            "table": None if table is Select.NULL else str(table),
            "operation": op or None,
            "record_id": record or None,
        }

    def load(self, *, offset: int) -> None:
        audit, actor, filters = self.services.audit, self.actor, self._filters()

        def job() -> tuple[list[ChangeEvent], int]:
            return audit.list(
                actor,
                table=filters["table"],
                operation=filters["operation"],
                record_id=filters["record_id"],
                limit=PAGE,
                offset=offset,
            )

        def loaded(page: tuple[list[ChangeEvent], int]) -> None:
            events, self.total = page
            if offset == 0:
                self.events = []
                self.table.clear()
            known = {e.event_id for e in self.events}
            fresh = [e for e in events if e.event_id not in known]
            self.events.extend(fresh)
            for e in fresh:
                self.table.add_row(
                    e.date_created[:19].replace("T", " "),
                    e.actor_name or e.actor_kind,
                    e.table_name,
                    e.operation,
                    e.record_id,
                    key=e.event_id,
                )
            more = " · m loads more" if len(self.events) < self.total else ""
            self.query_one("#events-title", Static).update(
                f"Activity · {len(self.events)} of {self.total} events, newest first{more}"
            )
            self.refresh_bindings()

        self.call("audit", job, loaded)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.load(offset=0)
        self.table.focus()

    def on_select_changed(self, event: Select.Changed) -> None:
        self.load(offset=0)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "more" and len(self.events) >= self.total:
            return None
        if action == "show_event" and not self.events:
            return None
        return True

    def action_more(self) -> None:
        self.load(offset=len(self.events))

    def action_reload(self) -> None:
        self.load(offset=0)

    def action_filter(self) -> None:
        self.query_one("#filter-table", Select).focus()

    def action_show_event(self) -> None:
        row = self.table.cursor_row
        if 0 <= row < len(self.events):
            self.app.push_screen(EventDetailModal(self.events[row]))
