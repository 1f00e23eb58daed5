"""Plugin administration for the front ends: :class:`~modulacms.core.plugins.PluginControl`
over the runtime's :class:`~modulacms.plugin_runtime.admin.PluginAdmin`.

A composition-layer module (like ``app.py``): it may import the plugin runtime, which the
TUI may not. The runtime (and with it lupa) is imported only when a control is first
used, so that a front end that never shows plugins starts as fast as before.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from modulacms.core.plugin_screens import ScreenInfo, ScreenSession
from modulacms.core.plugins import (
    STATUS_INVALID,
    STATUS_NOT_REGISTERED,
    PluginControl,
    PluginDetail,
    PluginDomain,
    PluginHook,
    PluginRoute,
    PluginSummary,
)
from modulacms.errors import NotFound, PluginLoadError

if TYPE_CHECKING:
    from modulacms.config import Settings
    from modulacms.db.connection import Database
    from modulacms.plugin_runtime.admin import PluginAdmin
    from modulacms.plugin_runtime.manifest import Manifest
    from modulacms.plugin_runtime.screens import ScreenHost

T = TypeVar("T")


class AdminPluginControl:
    """A :class:`PluginControl` on the project database, with or without a server.

    Approvals are recorded as made by ``actor`` (the TUI passes ``tui:<user>``, the name
    its audit rows carry).
    """

    def __init__(self, admin: PluginAdmin, actor: str) -> None:
        self.admin = admin
        self.actor = actor
        self._lock = threading.Lock()
        self._load_errors: dict[str, str] = {}
        """Load failures seen by this control (the runtime does not store them yet)."""
        self._screens: ScreenHost | None = None
        self._screens_lock = threading.Lock()

    # -- reading ------------------------------------------------------------------------

    def plugins(self) -> list[PluginSummary]:
        with self._lock:
            return self._plugins()

    def _plugins(self) -> list[PluginSummary]:
        admin = self.admin
        stored = self._stored()
        pending: dict[str, int] = {}
        store = admin.approvals
        waiting = [
            *(r.plugin for r in store.routes() if not r.approved),
            *(h.plugin for h in store.hooks() if not h.approved),
            *(d.plugin for d in store.domains() if not d.approved),
        ]
        for plugin in waiting:
            pending[plugin] = pending.get(plugin, 0) + 1
        out: list[PluginSummary] = []
        for name, manifest, problem in admin.plugins():
            status, last_error = stored.get(name, (STATUS_NOT_REGISTERED, None))
            if manifest is None:
                out.append(PluginSummary(name, "", "", STATUS_INVALID, last_error=problem))
                continue
            out.append(
                PluginSummary(
                    name,
                    manifest.version,
                    manifest.description,
                    status,
                    breaker=self._breaker(name),
                    last_error=self._load_errors.get(name) or last_error,
                    pending=pending.get(name, 0),
                    screens=_screens(manifest),
                )
            )
        return out

    def detail(self, name: str) -> PluginDetail:
        # one at a time: a UI may ask again before the first load (which registers the
        # plugin) has finished, and must not then read its rows half-written
        with self._lock:
            return self._detail(name)

    def _detail(self, name: str) -> PluginDetail:
        admin = self.admin
        listed = {n: (m, problem) for n, m, problem in admin.plugins()}
        if name not in listed:
            raise NotFound("plugin", name, f"plugin not found: {name}")
        manifest, problem = listed[name]
        if manifest is None:
            return PluginDetail(PluginSummary(name, "", "", STATUS_INVALID, last_error=problem))
        if admin.approvals.status(name) is None:
            self._sync(name, quiet=True)
        info = admin.info(name)
        status, last_error = self._stored().get(name, (STATUS_NOT_REGISTERED, None))
        routes = tuple(
            PluginRoute(r.method, r.path, r.public, r.approved) for r in admin.routes(name)
        )
        hooks = tuple(
            PluginHook(h.event, h.table, h.priority, h.approved) for h in admin.hooks(name)
        )
        domains = tuple(
            PluginDomain(d.domain, d.description, d.approved) for d in admin.approvals.domains(name)
        )
        waiting = sum(not r.approved for r in routes) + sum(not h.approved for h in hooks)
        waiting += sum(not d.approved for d in domains)
        summary = PluginSummary(
            name,
            str(info["version"]),
            str(info["description"]),
            status,
            breaker=self._breaker(name),
            last_error=self._load_errors.get(name) or last_error,
            pending=waiting,
            screens=_screens(manifest),
        )
        return PluginDetail(
            summary,
            author=str(info["author"]),
            license=str(info["license"]),
            dependencies=tuple(str(d) for d in info["dependencies"]),
            routes=routes,
            hooks=hooks,
            domains=domains,
        )

    def _stored(self) -> dict[str, tuple[str, str | None]]:
        """Status and latest recorded error of every registered plugin, by name."""
        statuses = self.admin.approvals.known_plugins()
        health = self.admin.approvals.health()
        return {
            name: (status, health[name].last_error if name in health else None)
            for name, status in statuses.items()
        }

    def _breaker(self, name: str) -> str | None:
        """The breaker state a server last recorded for the plugin (None: never ran)."""
        recorded = self.admin.approvals.health().get(name)
        if recorded is None or recorded.breaker_state is None:
            return None
        return f"{recorded.breaker_state} since {recorded.breaker_since}"

    def _sync(self, name: str, *, quiet: bool = False) -> None:
        """Load the plugin once so its rows exist (``quiet``: a failure is only noted)."""
        try:
            self._recording(name, lambda: self.admin.sync(name))
        except PluginLoadError:
            if not quiet:
                raise

    # -- changing -----------------------------------------------------------------------

    def set_route(self, name: str, method: str, path: str, approved: bool) -> int:
        with self._lock:
            return self.admin.approve_route(name, f"{method} {path}", self.actor, approved)

    def set_hook(self, name: str, event: str, table: str, approved: bool) -> int:
        with self._lock:
            return self.admin.approve_hook(name, f"{event}:{table}", self.actor, approved)

    def set_domain(self, name: str, domain: str, approved: bool) -> int:
        with self._lock:
            return self.admin.approve_domain(name, domain, self.actor, approved)

    def set_all_routes(self, name: str, approved: bool) -> int:
        with self._lock:
            rows = self._recording(name, lambda: self.admin.pending_routes(name, approved))
            return self.admin.set_routes(name, rows, approved, self.actor)

    def set_all_hooks(self, name: str, approved: bool) -> int:
        with self._lock:
            rows = self._recording(name, lambda: self.admin.pending_hooks(name, approved))
            return self.admin.set_hooks(name, rows, approved, self.actor)

    def set_all_domains(self, name: str, approved: bool) -> int:
        with self._lock:
            self._sync(name)
            rows = [d for d in self.admin.approvals.domains(name) if d.approved != approved]
            for row in rows:
                self.admin.approve_domain(name, row.domain, self.actor, approved)
            return len(rows)

    def _recording(self, name: str, job: Callable[[], T]) -> T:
        """Run ``job`` (which loads the plugin), remembering whether the load failed."""
        try:
            found = job()
        except PluginLoadError as exc:
            self._load_errors[name] = exc.message
            raise
        self._load_errors.pop(name, None)
        return found

    def set_enabled(self, name: str, enabled: bool) -> None:
        with self._lock:
            self.admin.set_enabled(name, enabled)

    def reload(self, name: str) -> None:
        with self._lock:
            self._recording(name, lambda: self.admin.request_reload(name))
        with self._screens_lock:
            host = self._screens
        if host is not None:  # the copy this process runs for plugin screens
            self._recording(name, lambda: host.reload(name))

    # -- screens ------------------------------------------------------------------------

    def screens(self, name: str) -> list[ScreenInfo]:
        return list(_screens(self.admin.manifest(name)))

    def open_screen(
        self,
        plugin: str,
        screen: str,
        width: int,
        height: int,
        params: Mapping[str, str] | None = None,
    ) -> ScreenSession:
        # not under self._lock: a screen's plugin may take a while to load, and the
        # Plugins area must keep answering meanwhile
        host = self._screen_host()
        try:
            return host.open(plugin, screen, width, height, params)
        except PluginLoadError as exc:
            self._load_errors[plugin] = exc.message
            raise

    def _screen_host(self) -> ScreenHost:
        with self._screens_lock:
            if self._screens is None:
                from modulacms.plugin_runtime.screens import ScreenHost

                admin = self.admin
                self._screens = ScreenHost(
                    admin.plugin_dir, admin.db, admin.services, admin.options
                )
            return self._screens

    def close(self) -> None:
        with self._screens_lock:
            host, self._screens = self._screens, None
        if host is not None:
            host.close()


class LazyPluginControl:
    """A :class:`PluginControl` that builds the real one on first use (in whichever
    thread asks first), so the plugin runtime is imported only when needed."""

    def __init__(self, build: Callable[[], PluginControl]) -> None:
        self._build = build
        self._control: PluginControl | None = None
        self._lock = threading.Lock()

    @property
    def control(self) -> PluginControl:
        with self._lock:
            if self._control is None:
                self._control = self._build()
            return self._control

    def plugins(self) -> list[PluginSummary]:
        return self.control.plugins()

    def detail(self, name: str) -> PluginDetail:
        return self.control.detail(name)

    def set_route(self, name: str, method: str, path: str, approved: bool) -> int:
        return self.control.set_route(name, method, path, approved)

    def set_hook(self, name: str, event: str, table: str, approved: bool) -> int:
        return self.control.set_hook(name, event, table, approved)

    def set_domain(self, name: str, domain: str, approved: bool) -> int:
        return self.control.set_domain(name, domain, approved)

    def set_all_routes(self, name: str, approved: bool) -> int:
        return self.control.set_all_routes(name, approved)

    def set_all_hooks(self, name: str, approved: bool) -> int:
        return self.control.set_all_hooks(name, approved)

    def set_all_domains(self, name: str, approved: bool) -> int:
        return self.control.set_all_domains(name, approved)

    def set_enabled(self, name: str, enabled: bool) -> None:
        self.control.set_enabled(name, enabled)

    def reload(self, name: str) -> None:
        self.control.reload(name)

    def screens(self, name: str) -> list[ScreenInfo]:
        return self.control.screens(name)

    def open_screen(
        self,
        plugin: str,
        screen: str,
        width: int,
        height: int,
        params: Mapping[str, str] | None = None,
    ) -> ScreenSession:
        return self.control.open_screen(plugin, screen, width, height, params)

    def close(self) -> None:
        """Close the real control if one was built (nothing to do otherwise)."""
        with self._lock:
            control = self._control
        if control is not None:
            control.close()


def _screens(manifest: Manifest) -> tuple[ScreenInfo, ...]:
    return tuple(
        ScreenInfo(manifest.name, s.name, s.label, s.icon, s.hidden) for s in manifest.screens
    )


def admin_control(
    plugin_dir: Path,
    db: Database,
    actor: str,
    *,
    services: Any = None,
    settings: Settings | None = None,
) -> AdminPluginControl:
    """The control for the plugins in ``plugin_dir`` of the project database ``db``."""
    from modulacms.plugin_runtime.admin import PluginAdmin
    from modulacms.plugin_runtime.options import RuntimeOptions

    options = RuntimeOptions.from_settings(settings) if settings is not None else None
    return AdminPluginControl(PluginAdmin(plugin_dir, db, services, options), actor)


def lazy_control(
    settings: Settings, db: Database, actor: str, *, services: Any = None
) -> LazyPluginControl:
    """:func:`admin_control` for a project's settings, built on first use."""
    return LazyPluginControl(
        lambda: admin_control(settings.plugins_dir, db, actor, services=services, settings=settings)
    )
