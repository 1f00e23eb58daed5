"""Approvals of plugin routes, hooks and outbound domains, and the ``plugins`` rows.

Approval state lives in the database (``plugin_routes``, ``plugin_hooks``,
``plugin_requests``, ``plugins``), so ``modulacms plugin approve`` works whether or not a
server runs; a running server keeps an :class:`ApprovalSnapshot` in memory and reloads it
when the database changes (see ``ApprovalWatcher`` in ``manager.py``).

Rules (spec §6.5, §7.6, §8.1, §11):

* new rows start unapproved; approve/revoke are idempotent;
* routes: when the stored ``plugin_version`` of any row differs from the loading
  version, all of the plugin's route rows are deleted first (everything needs approval
  again); a route whose ``public`` flag changed loses its approval; rows of routes the
  plugin no longer registers are removed;
* hooks and domains keep their approval across versions (only ``plugin_version`` is
  updated);
* rows of plugins that are no longer discovered are deleted at start-up.

:class:`MemoryApprovals` keeps the same state in memory, for the test harness (which
approves everything, like the original's harness) and for runtimes without a database.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from modulacms.db.repositories.plugins import (
    ApprovalSnapshot,
    ApprovalStore,
    DomainRow,
    HookRow,
    PluginHealth,
    RouteRow,
)

__all__ = [
    "ApprovalBackend",
    "ApprovalSnapshot",
    "ApprovalStore",
    "DomainRow",
    "HookRow",
    "MemoryApprovals",
    "PluginHealth",
    "RouteRow",
]


class ApprovalBackend(Protocol):
    """What the manager needs from an approval store."""

    def prune(self, plugins: Iterable[str]) -> None: ...

    def register_plugin(
        self, name: str, version: str, description: str, author: str, access: dict[str, Any]
    ) -> None: ...

    def sync(
        self,
        plugin: str,
        version: str,
        routes: Sequence[tuple[str, str, bool]],
        hooks: Sequence[tuple[str, str, int]],
        domains: Sequence[tuple[str, str]],
    ) -> None: ...

    def snapshot(self) -> ApprovalSnapshot: ...

    def version(self) -> int: ...

    def set_status(self, name: str, status: str) -> None: ...

    def record_health(self, name: str, breaker: str | None, error: str | None) -> None: ...


class MemoryApprovals:
    """An in-memory :class:`ApprovalBackend`; ``auto_approve`` approves every new item."""

    def __init__(self, *, auto_approve: bool = False) -> None:
        self.auto_approve = auto_approve
        self._lock = threading.Lock()
        self._routes: dict[tuple[str, str, str], bool] = {}
        self._hooks: dict[tuple[str, str, str], bool] = {}
        self._domains: dict[tuple[str, str], bool] = {}
        self._access: dict[str, dict[str, list[str]]] = {}
        self._status: dict[str, str] = {}
        self._health: dict[str, tuple[str | None, str | None]] = {}
        self._version = 0

    def version(self) -> int:
        return self._version

    def prune(self, plugins: Iterable[str]) -> None:
        keep = set(plugins)
        with self._lock:
            for store in (self._routes, self._hooks, self._domains):
                for key in [k for k in store if k[0] not in keep]:
                    del store[key]  # type: ignore[arg-type]
            self._version += 1

    def register_plugin(
        self, name: str, version: str, description: str, author: str, access: dict[str, Any]
    ) -> None:
        with self._lock:
            self._access.setdefault(name, {k: list(v) for k, v in access.items()})
            self._status.setdefault(name, "installed")

    def sync(
        self,
        plugin: str,
        version: str,
        routes: Sequence[tuple[str, str, bool]],
        hooks: Sequence[tuple[str, str, int]],
        domains: Sequence[tuple[str, str]],
    ) -> None:
        with self._lock:
            for method, path, _ in routes:
                self._routes.setdefault((plugin, method, path), self.auto_approve)
            for event, table, _ in hooks:
                self._hooks.setdefault((plugin, event, table), self.auto_approve)
            for domain, _ in domains:
                self._domains.setdefault((plugin, domain.lower()), self.auto_approve)
            self._version += 1

    def snapshot(self) -> ApprovalSnapshot:
        with self._lock:
            return ApprovalSnapshot(
                frozenset(k for k, v in self._routes.items() if v),
                frozenset(k for k, v in self._hooks.items() if v),
                frozenset(k for k, v in self._domains.items() if v),
                {k: dict(v) for k, v in self._access.items()},
                dict(self._status),
            )

    def set_status(self, name: str, status: str) -> None:
        with self._lock:
            self._status[name] = status
            self._version += 1

    def record_health(self, name: str, breaker: str | None, error: str | None) -> None:
        with self._lock:
            old = self._health.get(name, (None, None))
            self._health[name] = (breaker or old[0], error or old[1])

    def approve(self, kind: str, key: tuple[str, ...], approved: bool = True) -> None:
        """Set one item (``kind`` is ``route``, ``hook`` or ``domain``)."""
        stores: dict[str, dict[Any, bool]] = {
            "route": self._routes,
            "hook": self._hooks,
            "domain": self._domains,
        }
        store = stores[kind]
        with self._lock:
            store[key] = approved
            self._version += 1

    def grant_access(self, plugin: str, access: dict[str, list[str]]) -> None:
        with self._lock:
            self._access[plugin] = {k: list(v) for k, v in access.items()}
            self._version += 1
