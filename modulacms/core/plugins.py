"""Plugins as front ends see them, and the operations they may ask for.

The terminal admin shows plugins without importing the plugin runtime (and so lupa): it
receives a :class:`PluginControl` built by the composition layer
(``modulacms.plugin_control``) and deals only in the frozen values below. Names of
routes and hooks are those of the plugin spec: a route is ``METHOD /path`` relative to
``/api/v1/plugins/<plugin>``, a hook is ``event:table``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from modulacms.core.plugin_screens import ScreenInfo, ScreenSession

STATUS_NOT_REGISTERED = "not registered"
"""The plugin is in the plugin folder but has no database row yet (never loaded)."""
STATUS_INVALID = "invalid"
"""The plugin folder has an ``init.lua`` that does not load (syntax or manifest)."""


def plugin_state(status: str) -> str:
    """What a running server does with a plugin of stored ``status``, in one word:
    ``invalid``, ``failed``, ``disabled``, ``new`` (enabled, not yet loaded by a server
    or tool) or ``enabled`` (every other stored status: ``installed``, ``enabled``)."""
    if status in (STATUS_INVALID, "failed", "disabled"):
        return status
    if status == STATUS_NOT_REGISTERED:
        return "new"
    return "enabled"


@dataclass(frozen=True, slots=True)
class PluginRoute:
    """One HTTP route a plugin registered; it is served only once approved."""

    method: str
    path: str
    public: bool
    approved: bool

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"


@dataclass(frozen=True, slots=True)
class PluginHook:
    """One content hook a plugin registered; it runs only once approved."""

    event: str
    table: str
    priority: int
    approved: bool

    @property
    def label(self) -> str:
        return f"{self.event}:{self.table}"

    @property
    def is_wildcard(self) -> bool:
        return self.table == "*"


@dataclass(frozen=True, slots=True)
class PluginDomain:
    """One outbound domain a plugin asked to call; requests go out only once approved."""

    domain: str
    description: str
    approved: bool


@dataclass(frozen=True, slots=True)
class PluginSummary:
    """One plugin in the plugin folder, as listed.

    ``status`` is the stored status (``installed``, ``enabled``, ``disabled``,
    ``failed``) or :data:`STATUS_NOT_REGISTERED` / :data:`STATUS_INVALID`. ``breaker`` is
    the circuit-breaker state (``closed``, ``open``, ``half-open``) when the source knows
    it, else None. ``last_error`` is the latest load or runtime error known, if any.
    """

    name: str
    version: str
    description: str
    status: str
    breaker: str | None = None
    last_error: str | None = None
    pending: int = 0
    """Routes, hooks and domains still waiting for approval."""
    screens: tuple[ScreenInfo, ...] = ()
    """The TUI screens the manifest declares (hidden ones included)."""

    @property
    def visible_screens(self) -> tuple[ScreenInfo, ...]:
        """The screens an editor may open from a list (hidden ones are reached only by
        a screen's ``navigate``)."""
        return tuple(s for s in self.screens if not s.hidden)

    @property
    def enabled(self) -> bool:
        """A running server loads the plugin (every valid status but ``disabled``)."""
        return self.status not in ("disabled", STATUS_INVALID)

    @property
    def valid(self) -> bool:
        return self.status != STATUS_INVALID

    @property
    def state(self) -> str:
        """:func:`plugin_state` of the stored status."""
        return plugin_state(self.status)


@dataclass(frozen=True, slots=True)
class PluginDetail:
    """Everything about one plugin: its summary, manifest facts and what it registered."""

    summary: PluginSummary
    author: str = ""
    license: str = ""
    dependencies: tuple[str, ...] = ()
    routes: tuple[PluginRoute, ...] = ()
    hooks: tuple[PluginHook, ...] = ()
    domains: tuple[PluginDomain, ...] = ()

    @property
    def name(self) -> str:
        return self.summary.name


class PluginControl(Protocol):
    """The plugin administration a front end may perform.

    Every method may block (it reads the plugin folder, runs Lua or writes SQLite), so a
    UI calls them off its main thread. Errors are ``ModulaError`` subclasses: ``NotFound``
    for an unknown plugin, route or hook, ``PluginLoadError`` when a plugin must be loaded
    to register its rows and cannot be. Changes are stored in the database; a running
    server applies them within its sync interval. Approvals are recorded under the
    actor the control was built for.
    """

    def plugins(self) -> list[PluginSummary]:
        """Every plugin in the plugin folder, valid or not, by name."""
        ...

    def detail(self, name: str) -> PluginDetail:
        """One plugin; a plugin that was never loaded is registered first, so its
        routes and hooks are listed (and can be approved)."""
        ...

    def set_route(self, name: str, method: str, path: str, approved: bool) -> int:
        """Approve (or revoke) one route; returns how many rows changed (0 or 1)."""
        ...

    def set_hook(self, name: str, event: str, table: str, approved: bool) -> int:
        """Approve (or revoke) one hook; returns how many rows changed (0 or 1)."""
        ...

    def set_domain(self, name: str, domain: str, approved: bool) -> int:
        """Approve (or revoke) one outbound domain; returns how many rows changed."""
        ...

    def set_all_routes(self, name: str, approved: bool) -> int:
        """Approve (or revoke) every route not yet in that state; returns the count."""
        ...

    def set_all_hooks(self, name: str, approved: bool) -> int:
        """Approve (or revoke) every hook not yet in that state; returns the count."""
        ...

    def set_all_domains(self, name: str, approved: bool) -> int:
        """Approve (or revoke) every outbound domain not yet in that state."""
        ...

    def set_enabled(self, name: str, enabled: bool) -> None:
        """Enable or disable the plugin (a running server starts or stops it)."""
        ...

    def reload(self, name: str) -> None:
        """Validate the plugin, refresh its rows and ask a running server to reload it."""
        ...

    def screens(self, name: str) -> list[ScreenInfo]:
        """The screens plugin ``name`` declares, hidden ones included."""
        ...

    def open_screen(
        self,
        plugin: str,
        screen: str,
        width: int,
        height: int,
        params: Mapping[str, str] | None = None,
    ) -> ScreenSession:
        """Start ``screens/<screen>.lua`` of ``plugin`` in this process, loading the
        plugin (and its dependencies) the first time; its first yield is the session's
        ``initial``. Raises ``NotFound``, ``PluginLoadError`` (disabled, invalid or
        failed plugin) or ``PluginError`` (no free VM, screen failed)."""
        ...

    def close(self) -> None:
        """Close open screens and shut down the plugins loaded for them (app exit)."""
        ...
