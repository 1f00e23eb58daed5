"""The Plugins area: the plugins of the project, and what each one may do.

Left, every plugin in the plugin folder (invalid ones too) with its version, status and
how many of its routes, hooks and outbound domains wait for approval. Right, the
highlighted plugin: its facts, circuit breaker and last error, then its routes, hooks and
domains, each approved or revoked one at a time or all at once. ``e`` enables or disables
the plugin and ``r`` asks a running server to reload it. The plugin's TUI screens (those
its manifest does not hide) are listed last; ``o`` (or enter in that list) opens one.

The screen talks to a :class:`~modulacms.core.plugins.PluginControl` handed to the app;
without one (plugins switched off) it says how to switch them on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import ClassVar, TypeVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Footer, Static

from modulacms.core.plugin_screens import ScreenInfo
from modulacms.core.plugins import (
    PluginControl,
    PluginDetail,
    PluginDomain,
    PluginHook,
    PluginRoute,
    PluginSummary,
)
from modulacms.tui.base import AreaScreen
from modulacms.tui.modals.confirm import ConfirmModal
from modulacms.tui.screens.plugin_screen import PluginScreen
from modulacms.tui.text import plain
from modulacms.tui.widgets.area_bar import AreaBar
from modulacms.tui.widgets.table import PlainTable

SWITCHED_OFF = (
    "Plugins are switched off for this project.\n\n"
    "To use them, set\n\n"
    "    [plugins]\n"
    "    enabled = true\n\n"
    "in the project's modulacms.toml and open the terminal admin again. Plugins live in "
    "the plugin folder, one folder each (modulacms plugin init NAME scaffolds one)."
)
NONE_FOUND = (
    "No plugins in the plugin folder yet. modulacms plugin init NAME scaffolds one; "
    "r reloads this list."
)
KINDS = ("route", "hook", "domain")
T = TypeVar("T")
Cell = str | Text
SHOWN_IN_CONFIRM = 8


def _mark(approved: bool) -> Text:
    return Text("yes", style="green") if approved else Text("no", style="yellow")


_STATE_STYLES = {"invalid": "red", "failed": "red", "disabled": "dim", "new": "yellow"}


def _status(p: PluginSummary) -> Text:
    """What a running server does with the plugin, in one word."""
    return Text(p.state, style=_STATE_STYLES.get(p.state, "green"))


class PluginsTable(PlainTable[Cell]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter,right", "screen.focus_detail", "Routes and hooks", show=False),
    ]


def _access_bindings(kind: str) -> list[BindingType]:
    return [
        Binding("a", f"screen.approve('{kind}', True)", "Approve", tooltip=f"Approve the {kind}"),
        Binding("x", f"screen.approve('{kind}', False)", "Revoke", tooltip=f"Revoke the {kind}"),
        Binding(
            "A",
            f"screen.approve_all('{kind}', True)",
            "Approve all",
            tooltip=f"Approve every {kind} of the plugin",
        ),
        Binding(
            "X",
            f"screen.approve_all('{kind}', False)",
            "Revoke all",
            show=False,
            tooltip=f"Revoke every {kind} of the plugin",
        ),
        Binding("escape,left", "screen.focus_plugins", "Plugins", show=False),
    ]


class PluginRoutesTable(PlainTable[Cell]):
    BINDINGS: ClassVar[list[BindingType]] = _access_bindings("route")


class PluginHooksTable(PlainTable[Cell]):
    BINDINGS: ClassVar[list[BindingType]] = _access_bindings("hook")


class PluginDomainsTable(PlainTable[Cell]):
    BINDINGS: ClassVar[list[BindingType]] = _access_bindings("domain")


class PluginScreensTable(PlainTable[Cell]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "screen.open_screen", "Open screen", show=False),
        Binding("escape,left", "screen.focus_plugins", "Plugins", show=False),
    ]


class PluginsScreen(AreaScreen):
    AREA = "plugins"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("o", "open_screen", "Open screen", tooltip="Open one of the plugin's screens"),
        Binding("e", "toggle_enabled", "Enable/disable", tooltip="Start or stop the plugin"),
        Binding("r", "reload", "Reload", tooltip="Re-read the plugin; a running server reloads it"),
    ]
    DEFAULT_CSS = """
    PluginsScreen #plugins-list { width: 32; border-right: vkey $panel; }
    PluginsScreen #plugins-list DataTable { height: 1fr; }
    PluginsScreen #plugin-info { height: auto; max-height: 6; }
    PluginsScreen #plugin-error { color: $error; }
    PluginsScreen .area-detail DataTable { height: 1fr; min-height: 3; }
    PluginsScreen #plugins-off { padding: 1 2; height: 1fr; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.plugins: list[PluginSummary] = []
        self.detail: PluginDetail | None = None
        self._loading: str | None = None
        """The plugin whose detail is being loaded, if any."""
        self.screens_known: list[ScreenInfo] = []
        """The visible screens of every enabled plugin (the app's palette offers them)."""

    @property
    def control(self) -> PluginControl | None:
        return self.modula.plugins

    def compose(self) -> ComposeResult:
        yield AreaBar(self.AREA, self.modula.project_name)
        if self.control is None:
            yield Static(plain(SWITCHED_OFF), id="plugins-off", classes="area-body")
            yield Footer()
            return
        with Horizontal(classes="area-body"):
            with Vertical(classes="pane", id="plugins-list"):
                yield Static("Plugins", id="plugins-title", classes="pane-title")
                yield PluginsTable(cursor_type="row", id="plugins-table")
                yield Static("", id="plugins-hint", classes="hint")
            with Vertical(classes="area-detail pane"):
                yield Static("Plugin", id="plugin-title", classes="pane-title")
                yield Static("", id="plugin-info", classes="detail-text")
                yield Static("Routes", id="routes-title", classes="pane-title")
                yield PluginRoutesTable(cursor_type="row", id="plugin-routes")
                yield Static("Hooks", id="hooks-title", classes="pane-title")
                yield PluginHooksTable(cursor_type="row", id="plugin-hooks")
                yield Static("Outbound domains", id="domains-title", classes="pane-title")
                yield PluginDomainsTable(cursor_type="row", id="plugin-domains")
                yield Static("Screens", id="screens-title", classes="pane-title")
                yield PluginScreensTable(cursor_type="row", id="plugin-screens")
        yield Footer()

    def on_mount(self) -> None:
        if self.control is None:
            return
        self.query_one(PluginsTable).add_columns("name", "version", "status", "wait")
        self.query_one(PluginRoutesTable).add_columns("ok", "route", "who")
        self.query_one(PluginHooksTable).add_columns("ok", "hook", "priority")
        self.query_one(PluginDomainsTable).add_columns("ok", "domain", "why")
        self.query_one(PluginScreensTable).add_columns("screen", "label")
        self._show_domains(False)
        self._show_screens(())
        self.query_one(PluginsTable).focus()
        self.refresh_area()

    # loading ----------------------------------------------------------------------------

    def refresh_area(self, select: str | None = None) -> None:
        control = self.control
        if control is None:
            return
        keep = select or self._current_name()
        self.call("plugins", control.plugins, lambda found: self._show_list(found, keep))

    def _show_list(self, found: list[PluginSummary], keep: str | None) -> None:
        self.plugins = found
        self.screens_known = [s for p in found if p.enabled for s in p.visible_screens]
        table = self.query_one(PluginsTable)
        table.clear()
        for p in found:
            table.add_row(*self._cells(p), key=p.name)
        for index, p in enumerate(found):
            if p.name == keep:
                table.move_cursor(row=index)
        self.query_one("#plugins-title", Static).update(f"Plugins ({len(found)})")
        self.query_one("#plugins-hint", Static).update(NONE_FOUND if not found else "")
        self.query_one("#plugins-hint", Static).display = not found
        self.load_detail()

    @staticmethod
    def _cells(p: PluginSummary) -> tuple[Cell, ...]:
        wait = Text(str(p.pending), style="yellow") if p.pending else ""
        return p.name, p.version, _status(p), wait

    def load_detail(self) -> None:
        control = self.control
        current = self.current_plugin()
        if control is None or current is None:
            self.detail = None
            self._show_detail(None)
            return
        name = current.name
        self._loading = name

        def shown(detail: PluginDetail) -> None:
            if self._loading == name:
                self._loading = None
            if self._current_name() == name:
                self._show_detail(detail)

        def failed(_: object) -> bool:
            if self._loading == name:
                self._loading = None
            return False

        self.call("plugin detail", lambda: control.detail(name), shown, failed)

    def _show_detail(self, detail: PluginDetail | None) -> None:
        self.detail = detail
        routes = self.query_one(PluginRoutesTable)
        hooks = self.query_one(PluginHooksTable)
        domains = self.query_one(PluginDomainsTable)
        if detail is None:
            self.query_one("#plugin-title", Static).update("Plugin")
            self.query_one("#plugin-info", Static).update("")
            for table in (routes, hooks, domains):
                table.clear()
            self._show_screens(())
            self.refresh_bindings()
            return
        summary = detail.summary
        self._update_row(summary)
        self.query_one("#plugin-title", Static).update(
            plain(f"{summary.name} {summary.version}".strip())
        )
        self.query_one("#plugin-info", Static).update(self._info(detail))
        self._fill(routes, detail.routes, self._route_cells)
        self._fill(hooks, detail.hooks, self._hook_cells)
        self._fill(domains, detail.domains, self._domain_cells)
        self.query_one("#routes-title", Static).update(self._count("Routes", detail.routes))
        self.query_one("#hooks-title", Static).update(self._count("Hooks", detail.hooks))
        self.query_one("#domains-title", Static).update(
            self._count("Outbound domains", detail.domains)
        )
        self._show_domains(bool(detail.domains))
        self._show_screens(summary.visible_screens)
        self.refresh_bindings()

    def _update_row(self, summary: PluginSummary) -> None:
        """The detail may be newer than the list (e.g. the plugin was just registered)."""
        for index, p in enumerate(self.plugins):
            if p.name == summary.name and p != summary:
                self.plugins[index] = summary
                table = self.query_one(PluginsTable)
                for column, cell in zip(table.columns, self._cells(summary), strict=True):
                    value = Text(cell) if isinstance(cell, str) else cell
                    table.update_cell(summary.name, column, value, update_width=True)

    @staticmethod
    def _info(detail: PluginDetail) -> Text:
        s = detail.summary
        text = Text()
        if s.description:
            text.append(s.description + "\n")
        if s.valid:
            text.append_text(_status(s))
            for part in (detail.author, detail.license):
                if part:
                    text.append(f" · {part}")
            if detail.dependencies:
                text.append(f" · needs {', '.join(detail.dependencies)}")
            text.append(f"\nBreaker: {s.breaker or 'not recorded (no server has run it yet)'}\n")
        if s.last_error:
            text.append(f"Last error: {s.last_error}", style="red")
        else:
            text.append("Last error: none", style="dim")
        return text

    @staticmethod
    def _count(title: str, items: Sequence[PluginRoute | PluginHook | PluginDomain]) -> str:
        waiting = sum(not i.approved for i in items)
        return (
            f"{title} ({len(items)}, {waiting} pending)" if waiting else f"{title} ({len(items)})"
        )

    @staticmethod
    def _fill(
        table: PlainTable[Cell], items: Sequence[T], cells: Callable[[T], tuple[str | Text, ...]]
    ) -> None:
        row = table.cursor_row
        table.clear()
        for item in items:
            table.add_row(*cells(item))
        if items:
            table.move_cursor(row=min(max(row, 0), len(items) - 1))

    @staticmethod
    def _route_cells(r: PluginRoute) -> tuple[str | Text, ...]:
        return _mark(r.approved), r.label, "public" if r.public else "login"

    @staticmethod
    def _hook_cells(h: PluginHook) -> tuple[str | Text, ...]:
        return _mark(h.approved), h.label, str(h.priority)

    @staticmethod
    def _domain_cells(d: PluginDomain) -> tuple[str | Text, ...]:
        return _mark(d.approved), d.domain, d.description

    def _show_domains(self, visible: bool) -> None:
        table = self.query_one(PluginDomainsTable)
        if not visible and table.has_focus:
            self.query_one(PluginsTable).focus()
        self.query_one("#domains-title").display = visible
        table.display = visible

    def _show_screens(self, screens: Sequence[ScreenInfo]) -> None:
        table = self.query_one(PluginScreensTable)
        self._fill(table, screens, lambda s: (s.name, s.label))
        visible = bool(screens)
        if not visible and table.has_focus:
            self.query_one(PluginsTable).focus()
        self.query_one("#screens-title", Static).update(f"Screens ({len(screens)})")
        self.query_one("#screens-title").display = visible
        table.display = visible

    # selection --------------------------------------------------------------------------

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if isinstance(event.data_table, PluginsTable):
            current = self.current_plugin()
            shown = self.detail.name if self.detail else None
            if current is not None and current.name not in (shown, self._loading):
                self.load_detail()
        else:
            self.refresh_bindings()

    def current_plugin(self) -> PluginSummary | None:
        if self.control is None:
            return None
        row = self.query_one(PluginsTable).cursor_row
        return self.plugins[row] if 0 <= row < len(self.plugins) else None

    def _current_name(self) -> str | None:
        current = self.current_plugin()
        return current.name if current else None

    def _items(self, kind: str) -> Sequence[PluginRoute | PluginHook | PluginDomain]:
        detail = self.detail
        if detail is None:
            return ()
        found: dict[str, Sequence[PluginRoute | PluginHook | PluginDomain]] = {
            "route": detail.routes,
            "hook": detail.hooks,
            "domain": detail.domains,
        }
        return found[kind]

    def _table(self, kind: str) -> PlainTable[Cell]:
        tables: dict[str, type[PlainTable[Cell]]] = {
            "route": PluginRoutesTable,
            "hook": PluginHooksTable,
            "domain": PluginDomainsTable,
        }
        return self.query_one(tables[kind])

    def current_item(self, kind: str) -> PluginRoute | PluginHook | PluginDomain | None:
        items = self._items(kind)
        row = self._table(kind).cursor_row
        return items[row] if 0 <= row < len(items) else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        ours = ("toggle_enabled", "reload", "approve", "approve_all", "focus_detail", "open_screen")
        if self.control is None:
            return False if action in ours else True  # hidden: nothing to act on
        current = self.current_plugin()
        if action in ("toggle_enabled", "focus_detail") and (current is None or not current.valid):
            return None
        if action == "open_screen" and (current is None or not current.visible_screens):
            return None
        if action == "approve" and (
            self.detail is None or self.current_item(str(parameters[0])) is None
        ):
            return None
        if action == "approve_all" and not self._items(str(parameters[0])):
            return None
        return True

    def action_focus_detail(self) -> None:
        for kind in KINDS:
            if self._items(kind):
                self._table(kind).focus()
                return

    def action_focus_plugins(self) -> None:
        self.query_one(PluginsTable).focus()

    # screens ----------------------------------------------------------------------------

    def action_open_screen(self) -> None:
        """Open the screen under the cursor of the screens list (else the first one)."""
        current = self.current_plugin()
        if current is None or not current.visible_screens:
            return
        screens = current.visible_screens
        table = self.query_one(PluginScreensTable)
        row = table.cursor_row if table.has_focus else 0
        self.open_plugin_screen(screens[min(max(row, 0), len(screens) - 1)])

    def open_plugin_screen(self, info: ScreenInfo) -> None:
        """Push ``info``'s screen; a plugin that cannot run it gets a notification."""
        control = self.control
        if control is None:
            return
        known = {p.name: p for p in self.plugins}.get(info.plugin)
        if known is not None and not known.valid:
            self.notify(
                f"{info.plugin} does not load: {known.last_error or 'invalid'}",
                title="Plugin screen",
                severity="error",
            )
            return
        if known is not None and not known.enabled:
            self.notify(
                f"{info.plugin} is disabled; enable it (e) to open its screens",
                title="Plugin screen",
                severity="warning",
            )
            return
        self.app.push_screen(PluginScreen(control, info.plugin, info.name, label=info.label))

    # changing ---------------------------------------------------------------------------

    def _change(self, label: str, name: str, job: Callable[[], object], said: str) -> None:
        def done(_: object) -> None:
            self.notify(said)
            self.refresh_area(select=name)

        self.call(label, job, done, write=True)

    def action_approve(self, kind: str, approved: bool) -> None:
        control, detail, item = self.control, self.detail, self.current_item(kind)
        if control is None or detail is None or item is None:
            return
        name = detail.name
        label = item.domain if isinstance(item, PluginDomain) else item.label
        if item.approved == approved:
            self.notify(f"{label} is {'approved' if approved else 'not approved'} already")
            return
        job: Callable[[], object]
        if isinstance(item, PluginRoute):
            job = lambda: control.set_route(name, item.method, item.path, approved)  # noqa: E731
        elif isinstance(item, PluginHook):
            job = lambda: control.set_hook(name, item.event, item.table, approved)  # noqa: E731
        else:
            job = lambda: control.set_domain(name, item.domain, approved)  # noqa: E731
        verb = "Approved" if approved else "Revoked"
        self._change(f"{verb.lower()} {kind}", name, job, f"{verb} {kind} {label} of {name}")

    def action_approve_all(self, kind: str, approved: bool) -> None:
        control, detail = self.control, self.detail
        if control is None or detail is None:
            return
        name = detail.name
        todo = [i for i in self._items(kind) if i.approved != approved]
        if not todo:
            state = "approved" if approved else "pending"
            self.notify(f"Every {kind} of {name} is {state} already")
            return
        setters = {
            "route": control.set_all_routes,
            "hook": control.set_all_hooks,
            "domain": control.set_all_domains,
        }
        setter = setters[kind]
        verb = "Approve" if approved else "Revoke"
        lines = [self._describe(i) for i in todo[:SHOWN_IN_CONFIRM]]
        if len(todo) > SHOWN_IN_CONFIRM:
            lines.append(f"… and {len(todo) - SHOWN_IN_CONFIRM} more")
        plural = f"{kind}s" if len(todo) != 1 else kind
        question = f"{verb} {len(todo)} {plural} of {name}?\n\n" + "\n".join(lines)
        if approved and kind == "route":
            question += "\n\nApproved routes are served by a running server within seconds."

        def answered(yes: bool | None) -> None:
            if not yes:
                return

            def job() -> int:
                return setter(name, approved)

            def done(count: int) -> None:
                self.notify(f"{verb}d {count} {kind}(s) of {name}")
                self.refresh_area(select=name)

            self.call(f"{verb.lower()} all {kind}s", job, done, write=True)

        self.app.push_screen(
            ConfirmModal(
                f"{verb} all {kind}s", question, yes=f"{verb} {len(todo)}", danger=not approved
            ),
            answered,
        )

    @staticmethod
    def _describe(item: PluginRoute | PluginHook | PluginDomain) -> str:
        if isinstance(item, PluginRoute):
            return f"  {item.label}{' (public)' if item.public else ''}"
        if isinstance(item, PluginHook):
            return f"  {item.label}"
        return f"  {item.domain}"

    def action_toggle_enabled(self) -> None:
        control, current = self.control, self.current_plugin()
        if control is None or current is None or not current.valid:
            return
        name = current.name
        if not current.enabled:
            self._change(
                "enable plugin",
                name,
                lambda: control.set_enabled(name, True),
                f"Enabled {name}; a running server starts it",
            )
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._change(
                    "disable plugin",
                    name,
                    lambda: control.set_enabled(name, False),
                    f"Disabled {name}; a running server stops it",
                )

        self.app.push_screen(
            ConfirmModal(
                "Disable plugin",
                f"Disable {name}? A running server stops it, its routes answer 404 and its "
                "hooks stop running; it stays off after a restart.",
                yes="Disable",
                danger=True,
            ),
            answered,
        )

    def action_reload(self) -> None:
        control, current = self.control, self.current_plugin()
        if control is None:
            return
        if current is None:
            self.refresh_area()
            return
        name = current.name
        self._change(
            "reload plugin",
            name,
            lambda: control.reload(name),
            f"Reloaded {name}; a running server picks it up within seconds",
        )
