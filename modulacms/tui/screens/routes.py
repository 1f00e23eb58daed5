"""The Routes area: create routes, rename their slug or title, delete them."""

from __future__ import annotations

from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import Footer, Static

from modulacms.core.models import Route
from modulacms.errors import Conflict, ModulaError
from modulacms.tui.base import AreaScreen
from modulacms.tui.modals.confirm import ConfirmModal
from modulacms.tui.modals.form import FormField, FormModal
from modulacms.tui.widgets.area_bar import AreaBar
from modulacms.tui.widgets.table import PlainTable


class RoutesTable(PlainTable[str]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "screen.new_route", "New route"),
        Binding("e", "screen.edit_route", "Edit"),
        Binding("d,delete", "screen.delete_route", "Delete"),
        Binding("c", "screen.open_content", "Open in Content"),
    ]


class RoutesScreen(AreaScreen):
    AREA = "routes"

    def __init__(self) -> None:
        super().__init__()
        self.routes: list[Route] = []

    def compose(self) -> ComposeResult:
        yield AreaBar(self.AREA, self.modula.project_name)
        with Vertical(classes="area-body"):
            yield Static("Routes", classes="pane-title")
            yield RoutesTable(cursor_type="row", id="routes-table")
            yield Static(
                "A route is a slug (/, /about, /blog/hello) that owns one content tree.",
                classes="hint",
            )
        yield Footer()

    @property
    def table(self) -> RoutesTable:
        return self.query_one(RoutesTable)

    def on_mount(self) -> None:
        self.table.add_columns("slug", "title", "published", "changed")
        self.table.focus()
        self.refresh_area()

    def refresh_area(self, select: str | None = None) -> None:
        self.call("routes", self.services.routes.list, lambda routes: self._show(routes, select))

    def _show(self, routes: list[Route], select: str | None) -> None:
        keep = select or self._current_id()
        self.routes = routes
        table = self.table
        table.clear()
        for r in routes:
            state = "● yes" if r.is_published else "no"
            table.add_row(
                r.slug, r.title, state, r.date_modified[:16].replace("T", " "), key=r.route_id
            )
        for index, r in enumerate(routes):
            if r.route_id == keep:
                table.move_cursor(row=index)
        self.refresh_bindings()

    def _current_id(self) -> str | None:
        route = self.current()
        return route.route_id if route else None

    def current(self) -> Route | None:
        row = self.table.cursor_row
        return self.routes[row] if self.routes and 0 <= row < len(self.routes) else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("edit_route", "delete_route", "open_content") and self.current() is None:
            return None
        return True

    def action_new_route(self) -> None:
        routes, actor = self.services.routes, self.actor

        def submit(values: dict[str, Any]) -> Route:
            return routes.create(str(values["slug"]), actor, title=str(values["title"]))

        self._form("New route", "", "", submit, "Create")

    def action_edit_route(self) -> None:
        route = self.current()
        if route is None:
            return
        routes, actor = self.services.routes, self.actor

        def submit(values: dict[str, Any]) -> Route:
            return routes.update(
                route.route_id, actor, slug=str(values["slug"]), title=str(values["title"])
            )

        self._form(f"Edit {route.slug}", route.slug, route.title, submit, "Save")

    def _form(self, title: str, slug: str, text: str, submit: Any, label: str) -> None:
        def done(route: Route | None) -> None:
            if route is not None:
                self.notify(f"Saved route {route.slug}")
                self.refresh_area(select=route.route_id)

        fields = [
            FormField("slug", "Slug", value=slug, placeholder="/about"),
            FormField("title", "Title", value=text, placeholder="About us"),
        ]
        self.app.push_screen(FormModal(title, fields, submit, submit_label=label), done)

    def action_delete_route(self) -> None:
        route = self.current()
        if route is None:
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._delete(route, force=False)

        self.app.push_screen(
            ConfirmModal(
                "Delete route", f"Delete the route {route.slug}?", yes="Delete", danger=True
            ),
            answered,
        )

    def _delete(self, route: Route, *, force: bool) -> None:
        routes, actor = self.services.routes, self.actor

        def deleted(_: None) -> None:
            self.notify(f"Deleted route {route.slug}")
            self.refresh_area()

        def failed(error: ModulaError) -> bool:
            if isinstance(error, Conflict) and not force:
                self._confirm_force(route, error.message)
                return True
            return False

        self.call(
            "delete route",
            lambda: routes.delete(route.route_id, actor, force=force),
            deleted,
            failed,
            write=True,
        )

    def _confirm_force(self, route: Route, reason: str) -> None:
        def answered(yes: bool | None) -> None:
            if yes:
                self._delete(route, force=True)

        self.app.push_screen(
            ConfirmModal(
                "Route has content",
                f"{reason}\n\nDelete the route together with all of its content, for good?",
                yes="Delete route and content",
                danger=True,
            ),
            answered,
        )

    async def action_open_content(self) -> None:
        route = self.current()
        if route is None:
            return
        await self.modula.action_area("content")
        screen = self.modula.areas.get("content")
        from modulacms.tui.screens.content import ContentScreen

        if isinstance(screen, ContentScreen):
            screen.leave_form(lambda: screen.open_route(route, focus=True))
