"""A screen defined by a plugin (``screens/<name>.lua``), pushed over the current area.

The plugin's coroutine runs in this process through the app's
:class:`~modulacms.core.plugins.PluginControl`; every call into it (open, each event, each
fetch or request) runs in a worker, one event at a time and in order: keys pressed while
the plugin is busy wait in a short queue. Keys go to the plugin as key events (names in
``widgets/plugin_screen/keys.py``), except ``escape``, which closes the screen, ``tab`` /
``shift+tab``, which move the focus between cells and tell the plugin with a focus event,
and the app's own priority keys (``ctrl+q`` quits). Resizing sends a resize event.

Actions: ``toast`` shows a notification; ``confirm`` asks with the usual confirm dialog
and sends the answer as a dialog event; ``navigate`` opens the named screen on top of this
one; ``fetch`` and ``request`` run in a worker and come back as a data event; ``commit``,
``cancel`` and ``quit`` (and a screen that returns) close it. A failing screen is closed
with an error notification; the rest of the app keeps working.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, TypeVar, cast

from textual import events
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.widgets import Static

from modulacms.core.plugin_screens import (
    CLOSING,
    Confirm,
    DialogEvent,
    Fetch,
    FocusEvent,
    Grid,
    KeyEvent,
    Navigate,
    Request,
    ResizeEvent,
    ScreenEvent,
    ScreenSession,
    ScreenYield,
    Toast,
)
from modulacms.core.plugins import PluginControl
from modulacms.errors import ModulaError, PluginError
from modulacms.tui.base import ServiceModal
from modulacms.tui.modals.confirm import ConfirmModal
from modulacms.tui.text import plain
from modulacms.tui.widgets.plugin_screen.grid import PluginGrid
from modulacms.tui.widgets.plugin_screen.keys import CLOSE_KEY, screen_key

log = logging.getLogger(__name__)

T = TypeVar("T")
MAX_QUEUED = 32
"""Events waiting for a busy plugin; beyond this, key presses are dropped."""


class PluginScreen(ServiceModal[None]):
    """One open plugin screen (full size, over the area it was opened from)."""

    DEFAULT_CSS = """
    PluginScreen { align: left top; background: $background; }
    PluginScreen #plugin-screen-title { height: 1; padding: 0 1; background: $panel; }
    PluginScreen #plugin-screen-hints { height: 1; padding: 0 1; background: $panel; }
    PluginScreen #plugin-screen-status { padding: 1 2; height: auto; color: $text-muted; }
    """
    BINDINGS: ClassVar[list[BindingType]] = []  # every key goes to on_key (and to the plugin)

    def __init__(
        self,
        control: PluginControl,
        plugin: str,
        screen: str,
        params: Mapping[str, str] | None = None,
        *,
        label: str = "",
    ) -> None:
        super().__init__()
        self.control = control
        self.plugin = plugin
        self.screen_name = screen
        self.params = dict(params or {})
        self.label = label
        self.session: ScreenSession | None = None
        self.shown: ScreenYield | None = None
        """What the plugin showed last (a grid or a primitive)."""
        self._events: deque[ScreenEvent] = deque()
        self._waiting_for_plugin = False
        self._leaving = False
        self._sent_size: tuple[int, int] | None = None

    @property
    def path(self) -> str:
        return f"{self.plugin}/{self.screen_name}"

    def compose(self) -> ComposeResult:
        title = f"{self.path} · {self.label}" if self.label else self.path
        yield Static(plain(title, "bold"), id="plugin-screen-title")
        yield Static(plain(f"Opening {self.path}…"), id="plugin-screen-status")
        yield PluginGrid(id="plugin-screen-body")
        yield Static(plain("esc close"), id="plugin-screen-hints")

    def on_mount(self) -> None:
        self._sent_size = self._body_size()
        self._waiting_for_plugin = True
        # an app worker, not one of this screen's: if the screen is closed while the
        # plugin loads, the session that comes back must still be closed (a screen's own
        # workers are cancelled with it and would drop it, VM and all)
        self.app.run_worker(self._open, name="open plugin screen", thread=True, exit_on_error=False)

    def _open(self) -> None:
        width, height = self._sent_size or self._body_size()
        try:
            session = self.control.open_screen(
                self.plugin, self.screen_name, width, height, self.params
            )
        except Exception as exc:
            error = exc if isinstance(exc, ModulaError) else PluginError(f"internal error: {exc}")
            if not isinstance(exc, ModulaError):
                log.exception("opening plugin screen %s failed", self.path)
            self.app.call_from_thread(self._failed, error)
            return
        self.app.call_from_thread(cast(Any, self._opened), session)

    def _body_size(self) -> tuple[int, int]:
        size = self.app.size
        return size.width, max(1, size.height - 2)

    # -- talking to the plugin ----------------------------------------------------------

    async def _opened(self, session: ScreenSession) -> None:
        self._waiting_for_plugin = False
        if self._leaving or not self.is_attached:
            self._close_session(session)
            return
        self.session = session
        self.label = self.label or session.info.label
        await self._apply(session.initial)
        self._pump()

    def send(self, event: ScreenEvent) -> None:
        """Queue ``event`` for the plugin (delivered in order, one at a time)."""
        if self._leaving or len(self._events) >= MAX_QUEUED:
            return
        self._events.append(event)
        self._pump()

    def _pump(self) -> None:
        session = self.session
        if self._waiting_for_plugin or session is None or not self._events or self._leaving:
            return
        event = self._events.popleft()
        self._waiting_for_plugin = True
        self.call(
            "plugin screen event",
            lambda: _guarded(lambda: session.send(event)),
            self._answered,
            self._failed,
        )

    async def _answered(self, value: ScreenYield) -> None:
        self._waiting_for_plugin = False
        await self._apply(value)
        self._pump()

    def _failed(self, error: ModulaError) -> bool:
        self._waiting_for_plugin = False
        if self._leaving:
            return True
        self.app.notify(error.message, title=f"{self.path}: {error.title}", severity="error")
        self.close()
        return True

    async def _apply(self, value: ScreenYield) -> None:
        if isinstance(value, CLOSING):
            self.close()
        elif isinstance(value, Toast):
            severity = value.level if value.level in ("warning", "error") else "information"
            self.app.notify(value.message, title=self.path, severity=severity)  # type: ignore[arg-type]
        elif isinstance(value, Confirm):
            self.app.push_screen(
                ConfirmModal(value.title, value.message),
                lambda yes: self.send(DialogEvent(bool(yes))),
            )
        elif isinstance(value, Navigate):
            self.app.push_screen(
                PluginScreen(self.control, value.plugin, value.screen, value.params_dict)
            )
        elif isinstance(value, Fetch | Request):
            self._perform(value)
        else:
            await self._show(value)

    def _perform(self, action: Fetch | Request) -> None:
        session = self.session
        if session is None:
            return
        self.call(
            f"plugin screen data {action.id}",
            lambda: _guarded(lambda: session.perform(action)),
            self.send,
            self._failed,
        )

    async def _show(self, value: ScreenYield) -> None:
        assert not isinstance(value, Navigate | Confirm | Toast | Fetch | Request)
        self.shown = value
        self.query_one("#plugin-screen-status").display = False
        await self.query_one(PluginGrid).show(value)  # type: ignore[arg-type]
        hints = value.hints if isinstance(value, Grid) else ()
        parts = [f"{h.key} {h.label}".strip() for h in hints] + ["esc close"]
        self.query_one("#plugin-screen-hints", Static).update(plain("  ·  ".join(parts)))

    # -- keys and size ------------------------------------------------------------------

    def on_key(self, event: events.Key) -> None:
        event.stop()
        event.prevent_default()
        if event.key == CLOSE_KEY:
            self.close()
            return
        grid = self.query_one(PluginGrid)
        if event.key in ("tab", "shift+tab") and grid.cell_count > 1:
            self.send(FocusEvent(grid.move_focus(1 if event.key == "tab" else -1)))
            return
        self.send(KeyEvent(screen_key(event.key, event.character)))

    def on_resize(self, event: events.Resize) -> None:
        size = self._body_size()
        if self.session is not None and size != self._sent_size:
            self._sent_size = size
            self.send(ResizeEvent(*size))

    # -- closing ------------------------------------------------------------------------

    def close(self) -> None:
        """Leave the screen; the plugin's VM is given back in a worker."""
        if not self._leaving:
            self._leaving = True
            session, self.session = self.session, None
            if session is not None:
                self._close_session(session)
        if self.is_current:
            self.dismiss(None)
        # else a dialog or a screen opened from this one is on top: leave when it is gone

    def on_screen_resume(self) -> None:
        if self._leaving:
            self.dismiss(None)

    def _close_session(self, session: ScreenSession) -> None:
        self.app.run_worker(
            session.close, name="close plugin screen", thread=True, exit_on_error=False
        )


def _guarded(job: Callable[[], T]) -> T:
    """Run ``job``; an unexpected error becomes a plugin error the screen can show."""
    try:
        return job()
    except ModulaError:
        raise
    except Exception as exc:
        log.exception("plugin screen call failed")
        raise PluginError(f"internal error: {exc}") from exc
