"""The pipeline registry (``pipelines``): plugin capabilities per table and operation.

A plugin's ``plugin_info.capabilities`` say "run my handler H for operation OP on table T
at priority N". They are stored when the plugin is installed or first registered and
rewritten as a whole by sync-capabilities (spec §9.5). A *chain* is every entry of one
``<table>.<op>`` key in execution order: priority ascending, then plugin name, then
handler name, so the order never depends on insertion order.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from modulacms.core.clock import now
from modulacms.core.ids import new_id
from modulacms.db.connection import Database

_COLUMNS = "plugin_name, table_name, operation, handler, priority, plugin_version"
_ORDER = " ORDER BY table_name, operation, priority, plugin_name, handler"


@dataclass(frozen=True, slots=True)
class Pipeline:
    """One registry entry."""

    plugin: str
    table: str
    op: str
    handler: str
    priority: int
    plugin_version: str = ""

    @property
    def key(self) -> str:
        """The registry key, ``<table>.<op>``."""
        return f"{self.table}.{self.op}"


class Capability(Protocol):
    """What a plugin declares (``plugin_runtime.manifest.Capability`` fits)."""

    @property
    def table(self) -> str: ...

    @property
    def op(self) -> str: ...

    @property
    def handler(self) -> str: ...

    @property
    def priority(self) -> int: ...


def _row(values: tuple[object, ...]) -> Pipeline:
    plugin, table, op, handler, priority, version = values
    return Pipeline(
        str(plugin), str(table), str(op), str(handler), int(str(priority)), str(version)
    )


class PipelineRepository:
    """Reads and rewrites ``pipelines``; the plugin's ``plugins`` row must exist first
    (foreign key), which :meth:`replace` reports as ``apsw.ConstraintError``."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def replace(self, plugin: str, version: str, capabilities: Iterable[Capability]) -> int:
        """Make ``capabilities`` the plugin's whole set of entries; returns how many are
        stored. A repeated ``(table, op, handler)`` keeps its last priority."""
        stamp = now()
        unique = {(c.table, c.op, c.handler): c.priority for c in capabilities}
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM pipelines WHERE plugin_name = ?", (plugin,))
            for (table, op, handler), priority in unique.items():
                conn.execute(
                    "INSERT INTO pipelines (pipeline_id, plugin_name, table_name, operation, "
                    "handler, priority, plugin_version, date_created) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (new_id(), plugin, table, op, handler, priority, version, stamp),
                )
        return len(unique)

    def entries(self, plugin: str | None = None) -> list[Pipeline]:
        """Every entry (or one plugin's), grouped by key in chain order."""
        if plugin is None:
            rows = self.db.execute(f"SELECT {_COLUMNS} FROM pipelines" + _ORDER)
        else:
            rows = self.db.execute(
                f"SELECT {_COLUMNS} FROM pipelines WHERE plugin_name = ?" + _ORDER, (plugin,)
            )
        return [_row(tuple(r)) for r in rows]

    def chain(self, table: str, op: str) -> list[Pipeline]:
        """The entries of key ``<table>.<op>`` in execution order."""
        rows = self.db.execute(
            f"SELECT {_COLUMNS} FROM pipelines WHERE table_name = ? AND operation = ?" + _ORDER,
            (table, op),
        )
        return [_row(tuple(r)) for r in rows]
