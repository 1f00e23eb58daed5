"""``ModulaApp``: the terminal admin, one mode per area, all service work in workers."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from functools import partial
from typing import Any, ClassVar

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.notifications import SeverityLevel
from textual.screen import ModalScreen, Screen

from modulacms.core.models import Actor
from modulacms.core.plugins import PluginControl
from modulacms.errors import ModulaError
from modulacms.resources import read_text
from modulacms.services.registry import Services
from modulacms.tui.base import AreaScreen
from modulacms.tui.keys import bare_action, is_enabled, key_help
from modulacms.tui.modals.choice import ChoiceModal
from modulacms.tui.modals.help import HelpModal
from modulacms.tui.screens.activity import ActivityScreen
from modulacms.tui.screens.content import ContentScreen
from modulacms.tui.screens.plugins import PluginsScreen
from modulacms.tui.screens.routes import RoutesScreen
from modulacms.tui.screens.schema import SchemaScreen
from modulacms.tui.screens.users import UsersScreen
from modulacms.tui.widgets.area_bar import AREAS

log = logging.getLogger(__name__)


class ModulaApp(App[None]):
    """The terminal admin of one project, acting as ``actor`` through ``services``."""

    TITLE = "ModulaCMS"
    CSS = read_text("modulacms.tui", "app.tcss")
    MODES: ClassVar[dict[str, Any]] = {
        "content": ContentScreen,
        "schema": SchemaScreen,
        "routes": RoutesScreen,
        "users": UsersScreen,
        "plugins": PluginsScreen,
        "activity": ActivityScreen,
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f1,question_mark", "help", "Help", tooltip="List every key of this area"),
        *(
            # priority: the area keys work even while a form field has the focus
            Binding(
                key, f"area('{mode}')", title, show=False, priority=True, tooltip=f"Go to {title}"
            )
            for mode, title, key in AREAS
        ),
        Binding("ctrl+q", "quit", "Quit", show=False, priority=True),
    ]

    def __init__(
        self,
        services: Services,
        actor: Actor,
        *,
        project_name: str = "",
        plugins: PluginControl | None = None,
    ) -> None:
        super().__init__()
        self.services = services
        self.actor = actor
        self.project_name = project_name
        self.plugins = plugins
        """Plugin administration, or None when the project has plugins switched off."""
        self.areas: dict[str, AreaScreen] = {}
        """The area screens created so far, by mode (they register on mount)."""

    def on_mount(self) -> None:
        self.switch_mode("content")

    # areas ------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "area" and isinstance(self.screen, ModalScreen):
            return False  # finish the dialog first
        return True

    async def action_area(self, mode: str) -> None:
        """Switch to an area; an area seen before reloads what it shows."""
        if mode == self.current_mode:
            return
        existing = self.areas.get(mode)
        await self.switch_mode(mode)
        if existing is not None:
            existing.refresh_area()

    # help, palette, quitting -----------------------------------------------------------

    def action_help(self) -> None:
        screen = self._area_screen()
        title = next((t for m, t, _ in AREAS if m == self.current_mode), "")
        self.push_screen(HelpModal(title, list(key_help(self, screen))))

    def _area_screen(self) -> Screen[Any]:
        return self.areas.get(self.current_mode) or self.screen

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        area = self._area_screen()
        for mode, title, key in AREAS:
            if mode != self.current_mode and not isinstance(screen, ModalScreen):
                yield SystemCommand(
                    f"Go to {title}", f"Switch area ({key.upper()})", partial(self._go, mode)
                )
        if screen is area:
            for item in key_help(self, area):
                if item.target is self or not is_enabled(item):
                    continue
                yield SystemCommand(
                    f"{item.section}: {item.description}",
                    f"key: {item.keys}",
                    partial(self.run_action, bare_action(item.action), item.target),
                )
        plugins_area = self.areas.get("plugins")
        if isinstance(plugins_area, PluginsScreen) and not isinstance(screen, ModalScreen):
            for info in plugins_area.screens_known:
                yield SystemCommand(
                    f"Open {info.path}",
                    info.label or "Plugin screen",
                    partial(plugins_area.open_plugin_screen, info),
                )
        yield SystemCommand("Help", "List every key of this area (F1)", self.action_help)
        yield SystemCommand("Theme", "Change the colours", self.action_change_theme)
        yield SystemCommand("Quit", "Leave ModulaCMS (ctrl+q)", self.action_quit)

    def on_unmount(self) -> None:
        # plugins loaded for their screens run on_shutdown and close their VMs
        if self.plugins is not None:
            self.plugins.close()

    async def _go(self, mode: str) -> None:
        await self.action_area(mode)

    async def action_quit(self) -> None:
        dirty = [s for s in self.areas.values() if s.has_unsaved_changes()]
        if not dirty:
            self.exit()
            return

        def answered(choice: str | None) -> None:
            if choice == "quit":
                self.exit()
            elif dirty[0].AREA != self.current_mode:
                self.run_worker(self.action_area(dirty[0].AREA))

        self.push_screen(
            ChoiceModal(
                "Unsaved changes",
                "A form has changes that are not saved. Quit anyway and drop them?",
                [("stay", "Go back"), ("quit", "Quit and drop them")],
            ),
            answered,
        )

    # notifications and errors -----------------------------------------------------------

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """Show a toast; never as markup, since messages quote titles and names."""
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=False)

    def report_error(self, error: BaseException, doing: str = "") -> None:
        """Show a service error: the one place where the TUI translates errors."""
        if isinstance(error, ModulaError):
            self.notify(error.message, title=error.title, severity="error", timeout=8)
            return
        log.error("%s failed", doing or "action", exc_info=error)
        self.notify(
            f"{type(error).__name__}: {error}\n(details are in the log file)",
            title=f"Unexpected error{f' in {doing}' if doing else ''}",
            severity="error",
            timeout=12,
        )
