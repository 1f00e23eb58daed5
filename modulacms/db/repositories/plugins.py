"""Plugin rows and approvals in the CMS database: ``plugins``, ``plugin_routes``,
``plugin_hooks`` and ``plugin_requests``.

The rules of what gets approved or revoked when (spec §6.5, §7.6, §8.1, §11) are described
in ``modulacms.plugin_runtime.approvals``, which wraps this store; this module owns the SQL.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from modulacms.core.clock import now
from modulacms.core.ids import new_id
from modulacms.db.connection import Database


@dataclass(frozen=True)
class ApprovalSnapshot:
    """What is approved, as sets of keys (cheap membership checks per request)."""

    routes: frozenset[tuple[str, str, str]] = frozenset()
    hooks: frozenset[tuple[str, str, str]] = frozenset()
    domains: frozenset[tuple[str, str]] = frozenset()
    access: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    status: dict[str, str] = field(default_factory=dict)

    def route(self, plugin: str, method: str, path: str) -> bool:
        return (plugin, method, path) in self.routes

    def hook(self, plugin: str, event: str, table: str) -> bool:
        return (plugin, event, table) in self.hooks

    def domain(self, plugin: str, domain: str) -> bool:
        return (plugin, domain.lower()) in self.domains


@dataclass(frozen=True, slots=True)
class RouteRow:
    plugin: str
    method: str
    path: str
    public: bool
    approved: bool
    plugin_version: str = ""


@dataclass(frozen=True, slots=True)
class HookRow:
    plugin: str
    event: str
    table: str
    priority: int
    approved: bool
    plugin_version: str = ""

    @property
    def is_wildcard(self) -> bool:
        return self.table == "*"


@dataclass(frozen=True, slots=True)
class DomainRow:
    plugin: str
    domain: str
    description: str
    approved: bool
    plugin_version: str = ""


@dataclass(frozen=True, slots=True)
class PluginHealth:
    """A plugin's health as its server last recorded it."""

    breaker_state: str | None
    breaker_since: str | None
    last_error: str | None
    last_error_at: str | None


class ApprovalStore:
    """Approvals in the CMS database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # -- loading ------------------------------------------------------------------------

    def version(self) -> int:
        """Changes whenever another connection committed (cheap change detection)."""
        return self.db.data_version()

    def prune(self, plugins: Iterable[str]) -> None:
        keep = sorted(set(plugins))
        marks = ",".join("?" * len(keep)) or "''"
        with self.db.transaction() as conn:
            for table in ("plugin_routes", "plugin_hooks", "plugin_requests"):
                conn.execute(f"DELETE FROM {table} WHERE plugin_name NOT IN ({marks})", keep)

    def register_plugin(
        self, name: str, version: str, description: str, author: str, access: dict[str, Any]
    ) -> None:
        """Auto-register a discovered plugin (status ``installed``; approved access =
        the manifest's ``core_access``, as the original does on first sight)."""
        stamp = now()
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO plugins (plugin_id, name, version, description, author, status, "
                "approved_access, date_installed, date_modified) "
                "VALUES (?, ?, ?, ?, ?, 'installed', ?, ?, ?) "
                "ON CONFLICT(name) DO UPDATE SET version = excluded.version, "
                "description = excluded.description, author = excluded.author "
                "WHERE plugins.version != excluded.version "
                "OR plugins.description != excluded.description "
                "OR plugins.author != excluded.author",
                (new_id(), name, version, description, author, json.dumps(access), stamp, stamp),
            )

    def sync(
        self,
        plugin: str,
        version: str,
        routes: Sequence[tuple[str, str, bool]],
        hooks: Sequence[tuple[str, str, int]],
        domains: Sequence[tuple[str, str]],
    ) -> None:
        stamp = now()
        with self.db.transaction() as conn:
            versions = {
                v
                for (v,) in conn.execute(
                    "SELECT DISTINCT plugin_version FROM plugin_routes WHERE plugin_name = ?",
                    (plugin,),
                )
            }
            if versions - {version}:
                conn.execute("DELETE FROM plugin_routes WHERE plugin_name = ?", (plugin,))
            existing = {
                (m, p): bool(pub)
                for m, p, pub in conn.execute(
                    "SELECT method, path, public FROM plugin_routes WHERE plugin_name = ?",
                    (plugin,),
                )
            }
            wanted = {(m, p) for m, p, _ in routes}
            for method, path in set(existing) - wanted:
                conn.execute(
                    "DELETE FROM plugin_routes WHERE plugin_name = ? AND method = ? AND path = ?",
                    (plugin, method, path),
                )
            for method, path, public in routes:
                if (method, path) not in existing:
                    conn.execute(
                        "INSERT INTO plugin_routes (plugin_name, method, path, public, approved, "
                        "plugin_version, date_created) VALUES (?, ?, ?, ?, 0, ?, ?)",
                        (plugin, method, path, int(public), version, stamp),
                    )
                elif existing[(method, path)] != public:
                    conn.execute(
                        "UPDATE plugin_routes SET public = ?, approved = 0, approved_by = NULL, "
                        "approved_at = NULL, plugin_version = ? "
                        "WHERE plugin_name = ? AND method = ? AND path = ?",
                        (int(public), version, plugin, method, path),
                    )
            for event, table, priority in hooks:
                conn.execute(
                    "INSERT INTO plugin_hooks (plugin_name, event, table_name, priority, approved, "
                    "plugin_version, date_created) VALUES (?, ?, ?, ?, 0, ?, ?) "
                    "ON CONFLICT(plugin_name, event, table_name) DO UPDATE SET "
                    "priority = excluded.priority, plugin_version = excluded.plugin_version",
                    (plugin, event, table, priority, version, stamp),
                )
            for domain, description in domains:
                conn.execute(
                    "INSERT INTO plugin_requests (plugin_name, domain, description, approved, "
                    "plugin_version, date_created) VALUES (?, ?, ?, 0, ?, ?) "
                    "ON CONFLICT(plugin_name, domain) DO UPDATE SET "
                    "description = excluded.description, plugin_version = excluded.plugin_version",
                    (plugin, domain, description, version, stamp),
                )

    def snapshot(self) -> ApprovalSnapshot:
        db = self.db
        routes = frozenset(
            (p, m, path)
            for p, m, path in db.execute(
                "SELECT plugin_name, method, path FROM plugin_routes WHERE approved = 1"
            )
        )
        hooks = frozenset(
            (p, e, t)
            for p, e, t in db.execute(
                "SELECT plugin_name, event, table_name FROM plugin_hooks WHERE approved = 1"
            )
        )
        domains = frozenset(
            (p, d.lower())
            for p, d in db.execute(
                "SELECT plugin_name, domain FROM plugin_requests WHERE approved = 1"
            )
        )
        access: dict[str, dict[str, list[str]]] = {}
        status: dict[str, str] = {}
        for name, raw, state in db.execute("SELECT name, approved_access, status FROM plugins"):
            status[name] = state
            try:
                parsed = json.loads(raw or "{}")
            except ValueError:
                parsed = {}
            if isinstance(parsed, dict):
                access[name] = {
                    str(t): [str(o) for o in ops]
                    for t, ops in parsed.items()
                    if isinstance(ops, list)
                }
        return ApprovalSnapshot(routes, hooks, domains, access, status)

    # -- plugin rows --------------------------------------------------------------------

    def set_status(self, name: str, status: str) -> None:
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE plugins SET status = ?, date_modified = ? WHERE name = ?",
                (status, now(), name),
            )

    def record_health(self, name: str, breaker: str | None, error: str | None) -> None:
        """Store a breaker state change and/or the latest runtime error of a plugin."""
        moment = now()
        with self.db.transaction() as conn:
            if breaker is not None:
                conn.execute(
                    "UPDATE plugins SET breaker_state = ?, breaker_since = ? "
                    "WHERE name = ? AND coalesce(breaker_state, '') != ?",
                    (breaker, moment, name, breaker),
                )
            if error is not None:
                conn.execute(
                    "UPDATE plugins SET last_error = ?, last_error_at = ? WHERE name = ?",
                    (error[:1000], moment, name),
                )

    def health(self) -> dict[str, PluginHealth]:
        """Every registered plugin's recorded health, by name."""
        rows = self.db.execute(
            "SELECT name, breaker_state, breaker_since, last_error, last_error_at FROM plugins"
        )
        return {str(r[0]): PluginHealth(r[1], r[2], r[3], r[4]) for r in rows}

    def status(self, name: str) -> str | None:
        value = self.db.scalar("SELECT status FROM plugins WHERE name = ?", (name,))
        return None if value is None else str(value)

    def known_plugins(self) -> dict[str, str]:
        return {n: s for n, s in self.db.execute("SELECT name, status FROM plugins")}

    # -- listing ------------------------------------------------------------------------

    def routes(self, plugin: str | None = None) -> list[RouteRow]:
        sql = (
            "SELECT plugin_name, method, path, public, approved, plugin_version FROM plugin_routes"
        )
        rows = self.db.execute(
            sql + (" WHERE plugin_name = ?" if plugin else "") + " ORDER BY 1, 3, 2",
            (plugin,) if plugin else (),
        )
        return [RouteRow(p, m, path, bool(pub), bool(a), v) for p, m, path, pub, a, v in rows]

    def hooks(self, plugin: str | None = None) -> list[HookRow]:
        sql = (
            "SELECT plugin_name, event, table_name, priority, approved, plugin_version "
            "FROM plugin_hooks"
        )
        rows = self.db.execute(
            sql + (" WHERE plugin_name = ?" if plugin else "") + " ORDER BY 1, 2, 3",
            (plugin,) if plugin else (),
        )
        return [HookRow(p, e, t, int(pr), bool(a), v) for p, e, t, pr, a, v in rows]

    def domains(self, plugin: str | None = None) -> list[DomainRow]:
        sql = (
            "SELECT plugin_name, domain, description, approved, plugin_version FROM plugin_requests"
        )
        rows = self.db.execute(
            sql + (" WHERE plugin_name = ?" if plugin else "") + " ORDER BY 1, 2",
            (plugin,) if plugin else (),
        )
        return [DomainRow(p, d, desc, bool(a), v) for p, d, desc, a, v in rows]

    # -- approve / revoke -----------------------------------------------------------------

    def _set(self, sql: str, params: tuple[Any, ...], approved: bool, actor: str) -> int:
        stamp = now() if approved else None
        who = actor if approved else None
        with self.db.transaction() as conn:
            conn.execute(sql, (int(approved), who, stamp, *params))
            return int(conn.changes())

    def set_route(self, plugin: str, method: str, path: str, approved: bool, actor: str) -> bool:
        """Approve or revoke one route; False when the plugin never registered it."""
        exists = self.db.scalar(
            "SELECT 1 FROM plugin_routes WHERE plugin_name = ? AND method = ? AND path = ?",
            (plugin, method, path),
        )
        if exists is None:
            return False
        self._set(
            "UPDATE plugin_routes SET approved = ?, approved_by = ?, approved_at = ? "
            "WHERE plugin_name = ? AND method = ? AND path = ?",
            (plugin, method, path),
            approved,
            actor,
        )
        return True

    def set_all_routes(self, plugin: str, approved: bool, actor: str) -> int:
        return self._set(
            "UPDATE plugin_routes SET approved = ?, approved_by = ?, approved_at = ? "
            "WHERE plugin_name = ? AND approved != ?",
            (plugin, int(approved)),
            approved,
            actor,
        )

    def set_hook(self, plugin: str, event: str, table: str, approved: bool, actor: str) -> int:
        return self._set(
            "UPDATE plugin_hooks SET approved = ?, approved_by = ?, approved_at = ? "
            "WHERE plugin_name = ? AND event = ? AND table_name = ?",
            (plugin, event, table),
            approved,
            actor,
        )

    def set_all_hooks(self, plugin: str, approved: bool, actor: str) -> int:
        return self._set(
            "UPDATE plugin_hooks SET approved = ?, approved_by = ?, approved_at = ? "
            "WHERE plugin_name = ? AND approved != ?",
            (plugin, int(approved)),
            approved,
            actor,
        )

    def set_domain(self, plugin: str, domain: str, approved: bool, actor: str) -> int:
        return self._set(
            "UPDATE plugin_requests SET approved = ?, approved_by = ?, approved_at = ? "
            "WHERE plugin_name = ? AND domain = ?",
            (plugin, domain.lower()),
            approved,
            actor,
        )

    def plugin_states(self) -> dict[str, tuple[str, str]]:
        """(status, date_modified) of every registered plugin, by name."""
        rows = self.db.execute("SELECT name, status, date_modified FROM plugins")
        return {str(n): (str(s), str(m)) for n, s, m in rows}

    def touch(self, name: str) -> None:
        """Stamp a plugin's row; a running server takes this as a reload request."""
        with self.db.transaction() as conn:
            conn.execute("UPDATE plugins SET date_modified = ? WHERE name = ?", (now(), name))

    def manifest_hash(self, name: str) -> str:
        value = self.db.scalar("SELECT manifest_hash FROM plugins WHERE name = ?", (name,))
        return "" if value is None else str(value)

    def set_manifest_hash(self, name: str, value: str) -> None:
        """Record the manifest hash (inside the caller's transaction when there is one).
        ``date_modified`` stays: a running server reads a newer stamp as a reload request
        (:meth:`touch`), and recording what a plugin declares does not change it."""
        self.db.connection().execute(
            "UPDATE plugins SET manifest_hash = ? WHERE name = ?", (value, name)
        )
