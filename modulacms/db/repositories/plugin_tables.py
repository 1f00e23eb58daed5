"""Plugin-created tables (``plugin_<name>_*``) and finding the ones nobody owns.

A plugin table is *owned* when a known plugin's namespace prefix ``plugin_<name>_``
matches its name, or when the ``tables`` registry names a known plugin as its owner.
Everything else whose name starts with ``plugin_`` is *orphaned*, except the core tables
that happen to share the prefix (``plugin_routes``, ``plugin_hooks``, ...): those are read
from the shipped migrations, so a future core table can never be mistaken for an orphan.
Which plugins are "known" is the caller's decision (see ``PluginAdmin.known_plugins``).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from functools import cache

from modulacms.db.connection import Database
from modulacms.db.migrate import available
from modulacms.db.query import quote

PREFIX = "plugin_"
_CREATE_TABLE = re.compile(
    r"\bCREATE\s+(?:VIRTUAL\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?[\"`\[]?(\w+)", re.IGNORECASE
)


@cache
def core_tables() -> frozenset[str]:
    """Every table the shipped migrations create (lower-cased)."""
    names: set[str] = set()
    for migration in available():
        names.update(m.group(1).lower() for m in _CREATE_TABLE.finditer(migration.sql()))
    return frozenset(names)


@dataclass(frozen=True, slots=True)
class Refusal:
    """A table :meth:`PluginTables.drop_orphans` would not drop, and why."""

    table: str
    reason: str


def _owner_by_prefix(table: str, known: Collection[str]) -> str | None:
    lowered = table.lower()
    matches = [p for p in known if lowered.startswith(f"{PREFIX}{p.lower()}_")]
    return max(matches, key=len) if matches else None


class PluginTables:
    """Lists and drops orphaned plugin tables of one database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def _plugin_tables(self) -> list[str]:
        rows = self.db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        core = core_tables()
        return [
            str(name)
            for (name,) in rows
            if str(name).lower().startswith(PREFIX) and str(name).lower() not in core
        ]

    def _registry(self) -> dict[str, str]:
        return {
            str(label).lower(): str(owner)
            for label, owner in self.db.execute("SELECT label, plugin_name FROM tables")
        }

    def _why_kept(self, table: str, known: Collection[str], registry: dict[str, str]) -> str:
        """Empty when ``table`` (an existing plugin_ table) is orphaned, else the reason."""
        owner = _owner_by_prefix(table, known)
        if owner is None and registry.get(table.lower()) in known:
            owner = registry[table.lower()]
        return f'owned by plugin "{owner}"' if owner is not None else ""

    def orphans(self, known: Collection[str]) -> list[str]:
        """Existing ``plugin_`` tables that no plugin in ``known`` owns, sorted."""
        registry = self._registry()
        return [t for t in self._plugin_tables() if not self._why_kept(t, known, registry)]

    def drop_orphans(
        self, tables: Iterable[str], known: Collection[str]
    ) -> tuple[list[str], list[Refusal]]:
        """Drop each of ``tables`` that is still orphaned, in one transaction, and forget
        its ``tables`` registry row. Returns ``(dropped, refused)``; a name that is not an
        orphaned plugin table right now (core table, owned, missing) is refused, never
        dropped."""
        dropped: list[str] = []
        refused: list[Refusal] = []
        with self.db.transaction() as conn:
            existing = {t.lower(): t for t in self._plugin_tables()}
            every = {str(n).lower() for (n,) in conn.execute("SELECT name FROM sqlite_master")}
            registry = self._registry()
            for requested in dict.fromkeys(tables):
                actual = existing.get(requested.lower())
                if actual is None:
                    reason = "not a plugin table" if requested.lower() in every else "no such table"
                    if requested.lower() in core_tables():
                        reason = "core table"
                    refused.append(Refusal(requested, reason))
                    continue
                kept = self._why_kept(actual, known, registry)
                if kept:
                    refused.append(Refusal(requested, kept))
                    continue
                conn.execute(f"DROP TABLE IF EXISTS {quote(actual)}")
                conn.execute("DELETE FROM tables WHERE label = ? COLLATE NOCASE", (actual,))
                dropped.append(actual)
        return dropped, refused
