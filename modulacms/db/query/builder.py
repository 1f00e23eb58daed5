"""Statements for a plugin's own tables: the ``db`` module of spec §4, minus the I/O.

:class:`PluginQueryBuilder` is bound to one plugin and one :class:`SchemaCatalog`. Each
method takes the arguments of the Lua function of the same name (as converted Lua values)
and returns :class:`Statement` objects; nothing is executed. Selects follow the
original's two execution paths (spec §4.4), including what each path ignores.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta

from modulacms.core.ids import new_id
from modulacms.errors import QueryRejected

from .conditions import (
    Node,
    as_sequence,
    check_value,
    has_value_binding,
    is_table,
    render_map_where,
)
from .ddl import index_statement
from .identifiers import (
    SchemaCatalog,
    Scope,
    TableSchema,
    check_identifier,
    fold,
    plugin_table,
    show,
)
from .identifiers import quote as q
from .options import as_map, parse_select, parse_where
from .options import parse_where_or as _parse_where_or
from .select import (
    MAX_SELECT_COLUMNS,
    condition_select,
    filter_sql,
    labelled,
    map_select,
    probe,
)
from .statement import Statement

MAX_INSERT_MANY_ROWS = 1000
SQLITE_MAX_PARAMS = 999


def timestamp(moment: datetime | None = None) -> str:
    """RFC 3339 UTC without fraction, ``YYYY-MM-DDTHH:MM:SSZ`` (``db.timestamp()``)."""
    return (moment or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def timestamp_ago(seconds: int) -> str:
    """The same format for now minus ``seconds`` (``db.timestamp_ago``)."""
    return timestamp(datetime.now(UTC) - timedelta(seconds=seconds))


def batch_size(columns: int) -> int:
    """Rows per ``insert_many`` statement on SQLite: ``min(100, 999 // columns)``, at least 1."""
    return max(1, min(100, SQLITE_MAX_PARAMS // max(columns, 1)))


def _values(values: Mapping[str, object], scope: Scope, role: str) -> list[tuple[str, object]]:
    """Resolved, de-duplicated ``(quoted column, value)`` pairs in sorted key order."""
    pairs, seen = [], set()
    for key in sorted(values):
        column = scope.column(key, role=role)
        if column in seen:
            raise QueryRejected(f"duplicate {role} {show(key)}")
        seen.add(column)
        pairs.append((column, check_value(values[key], f"column {show(key)}")))
    return pairs


def _require_table(value: object, message: str) -> None:
    if not is_table(value):
        raise QueryRejected(message, raises=True)


class PluginQueryBuilder:
    """Builds the SQL of one plugin's ``db.*`` calls against a schema catalog."""

    def __init__(
        self,
        catalog: SchemaCatalog,
        plugin: str,
        *,
        ids: Callable[[], str] = new_id,
        clock: Callable[[], str] = timestamp,
    ) -> None:
        self.catalog = catalog
        self.plugin = plugin
        self.ids = ids
        self.clock = clock

    def table(self, short: object) -> TableSchema:
        """The plugin's table with this short name; ``no such table`` otherwise."""
        return plugin_table(self.catalog, self.plugin, short)

    # -- reads ---------------------------------------------------------------------------

    def select(self, table: object, opts: object = None, *, one: bool = False) -> Statement:
        """``db.query`` (or ``db.query_one`` with ``one=True``, which is ``LIMIT 1``)."""
        base = self.table(table)
        o = parse_select(opts)
        if len(o.columns) + len(o.aggregates) > MAX_SELECT_COLUMNS:
            total = len(o.columns) + len(o.aggregates)
            raise QueryRejected(f"too many select columns: {total} (max {MAX_SELECT_COLUMNS})")
        if o.condition_path:
            return condition_select(base, o, one)
        joined = []
        for join in o.joins:
            with labelled("join table"):
                joined.append(self.table(join.table))
        return map_select(base, o, one, self.plugin, joined)

    def count(self, table: object, opts: object = None) -> Statement:
        """``db.count``: honours only ``where`` (map or condition form)."""
        return probe("SELECT COUNT(*) FROM", self.table(table), opts, "", self.plugin)

    def exists(self, table: object, opts: object = None) -> Statement:
        """``db.exists``: ``SELECT 1 ... LIMIT 1``."""
        return probe("SELECT 1 FROM", self.table(table), opts, " LIMIT ?", self.plugin)

    def insert(self, table: object, values: object) -> Statement:
        """``db.insert``: adds ``id``, ``created_at``, ``updated_at`` when absent."""
        base = self.table(table)
        _require_table(values, "db.insert requires a values table")
        row = as_map(values)
        now = self.clock()
        keys = {fold(k) for k in row}
        for column, make in (
            ("id", self.ids),
            ("created_at", lambda: now),
            ("updated_at", lambda: now),
        ):
            if column not in keys:
                row[column] = make()
        pairs = _values(row, Scope(base), "column")
        cols = ", ".join(c for c, _ in pairs)
        marks = ", ".join("?" for _ in pairs)
        return Statement(
            f"INSERT INTO {q(base.name)} ({cols}) VALUES ({marks})", [v for _, v in pairs]
        )

    def insert_many(self, table: object, columns: object, rows: object) -> list[Statement]:
        """``db.insert_many``: one statement per batch, generated columns prepended."""
        base = self.table(table)
        _require_table(columns, "db.insert_many requires a columns table")
        _require_table(rows, "db.insert_many requires a rows table")
        names = [c for c in as_sequence(columns) if isinstance(c, str)]
        if not names:
            raise QueryRejected("insert_many: columns cannot be empty")
        values = self._bulk_rows(rows, len(names))
        names = ["id", "created_at", "updated_at", *names]
        scope, seen = Scope(base), set()
        quoted = []
        for name in names:
            with labelled("insert_many"):
                column = scope.column(name)
            if column in seen:
                raise QueryRejected(
                    f"insert_many: duplicate column {show(name)} "
                    "(id, created_at and updated_at are generated)"
                )
            seen.add(column)
            quoted.append(column)
        now = self.clock()
        full_rows = [[self.ids(), now, now, *row] for row in values]
        size = batch_size(len(names))
        head = f"INSERT INTO {q(base.name)} ({', '.join(quoted)}) VALUES "
        group = "(" + ", ".join("?" for _ in names) + ")"
        return [
            Statement(head + ", ".join(group for _ in batch), [v for row in batch for v in row])
            for batch in (full_rows[i : i + size] for i in range(0, len(full_rows), size))
        ]

    def _bulk_rows(self, rows: object, width: int) -> list[list[object]]:
        values = []
        for row in as_sequence(rows):
            if not is_table(row):
                raise QueryRejected("insert_many: each row must be a table")
            cells = as_sequence(row)
            if len(cells) != width:
                raise QueryRejected(
                    f"insert_many: row has {len(cells)} values, expected {width} (matching columns)"
                )
            values.append([check_value(v, "insert_many") for v in cells])
        if not values:
            raise QueryRejected("insert_many: rows cannot be empty")
        if len(values) > MAX_INSERT_MANY_ROWS:
            raise QueryRejected(
                f"insert_many: too many rows: {len(values)} (max {MAX_INSERT_MANY_ROWS})"
            )
        return values

    def update(self, table: object, opts: object) -> Statement:
        """``db.update``: ``set`` required; a filter is required (spec §4.6)."""
        base = self.table(table)
        _require_table(opts, "db.update requires an options table")
        assert isinstance(opts, Mapping)
        changes = opts.get("set")
        _require_table(changes, "update requires a 'set' table")
        row = as_map(changes)
        if not row:
            raise QueryRejected("update 'set' cannot be empty", raises=True)
        where = self._write_filter(opts, "update")
        if "updated_at" not in {fold(k) for k in row}:
            row["updated_at"] = self.clock()
        scope = Scope(base, plugin=self.plugin)
        pairs = _values(row, scope, "set column")
        params: list[object] = [v for _, v in pairs]
        assignments = ", ".join(f"{c} = ?" for c, _ in pairs)
        body = self._where_sql(where, scope, params)
        return Statement(f"UPDATE {q(base.name)} SET {assignments} WHERE {body}", params)

    def delete(self, table: object, opts: object) -> Statement:
        """``db.delete``: a filter is required (spec §4.6)."""
        base = self.table(table)
        _require_table(opts, "db.delete requires an options table")
        assert isinstance(opts, Mapping)
        where = self._write_filter(opts, "delete")
        params: list[object] = []
        body = self._where_sql(where, Scope(base, plugin=self.plugin), params)
        return Statement(f"DELETE FROM {q(base.name)} WHERE {body}", params)

    def _write_filter(self, opts: Mapping[str, object], verb: str) -> _WriteFilter:
        where = parse_where(opts.get("where"))
        if where.condition is not None:
            if not has_value_binding(where.condition):
                raise QueryRejected(
                    f"{verb} requires a filter with at least one value binding "
                    "(e.g., Compare, In, Between)"
                )
            return _WriteFilter(where.condition, (), ())
        groups = tuple(g for g in _parse_where_or(opts.get("where_or")) if g)
        # An all-empty where_or ({{}}) must not slip through as "non-empty" and then
        # render no WHERE at all: that would touch every row.
        if not where.leaves and not groups:
            raise QueryRejected(
                f"db.{verb} requires non-empty where or where_or "
                f"(safety: prevents full-table {verb})",
                raises=True,
            )
        return _WriteFilter(None, where.leaves, groups)

    def _where_sql(self, where: _WriteFilter, scope: Scope, params: list[object]) -> str:
        if where.condition is not None:
            return filter_sql(where.condition, scope, params)
        return render_map_where(
            where.leaves,
            where.groups,
            lambda c: scope.column(c, qualified=True, role="where column"),
            params,
        )

    def upsert(self, table: object, opts: object) -> Statement:
        """``db.upsert``: ``INSERT ... ON CONFLICT (...) DO UPDATE | DO NOTHING``."""
        base = self.table(table)
        _require_table(opts, "db.upsert requires an options table")
        assert isinstance(opts, Mapping)
        spec = _UpsertSpec.parse(opts, self.clock())
        scope = Scope(base)
        pairs = _values(spec.values, scope, "column")
        conflict = [scope.column(c, role="conflict column") for c in spec.conflict]
        inserted = {c for c, _ in pairs}
        for name, column in zip(spec.conflict, conflict, strict=True):
            if column not in inserted:
                raise QueryRejected(
                    f"upsert: conflict column {show(name)} must be present in values"
                )
        params: list[object] = [v for _, v in pairs]
        head = (
            f"INSERT INTO {q(base.name)} ({', '.join(c for c, _ in pairs)}) "
            f"VALUES ({', '.join('?' for _ in pairs)}) ON CONFLICT ({', '.join(conflict)})"
        )
        if spec.do_nothing:
            return Statement(head + " DO NOTHING", params)
        if spec.update is not None:
            updates = _values(spec.update, scope, "update column")
            for (column, _), key in zip(updates, sorted(spec.update), strict=True):
                if column in conflict:
                    raise QueryRejected(
                        f"upsert: update column {show(key)} cannot be a conflict column"
                    )
            params += [v for _, v in updates]
            sets = ", ".join(f"{c} = ?" for c, _ in updates)
        else:
            chosen = [c for c, _ in pairs if c not in conflict]
            if not chosen:
                raise QueryRejected(
                    "upsert: no columns to update (all values are conflict columns)"
                )
            sets = ", ".join(f"{c} = excluded.{c}" for c in chosen)
        return Statement(f"{head} DO UPDATE SET {sets}", params)

    def create_index(self, table: object, opts: object) -> Statement:
        """``db.create_index``: ``IF NOT EXISTS``, named ``idx_<fulltable>_<cols>``."""
        base = self.table(table)
        _require_table(opts, "db.create_index requires an options table")
        assert isinstance(opts, Mapping)
        if not is_table(opts.get("columns")):
            raise QueryRejected("create_index: 'columns' table is required")
        names = [c for c in as_sequence(opts.get("columns")) if isinstance(c, str)]
        if not names:
            raise QueryRejected("create_index: columns cannot be empty")
        columns = []
        for name in names:
            with labelled("create index"):
                check_identifier(name, "column")
                found = base.column(name)
            if found is None:
                raise QueryRejected(f"create index: no such column: {name}")
            columns.append(found)
        return index_statement(base.name, tuple(columns), opts.get("unique") is True)


class _WriteFilter:
    """The filter of an update/delete: one condition, or map leaves plus OR groups."""

    def __init__(
        self, condition: Node | None, leaves: tuple[Node, ...], groups: tuple[tuple[Node, ...], ...]
    ) -> None:
        self.condition = condition
        self.leaves = leaves
        self.groups = groups


class _UpsertSpec:
    """The parsed ``opts`` of ``db.upsert``; shape errors raise, as in the original."""

    def __init__(
        self,
        values: dict[str, object],
        conflict: list[str],
        update: dict[str, object] | None,
        do_nothing: bool,
    ) -> None:
        self.values, self.conflict, self.update, self.do_nothing = (
            values,
            conflict,
            update,
            do_nothing,
        )

    @classmethod
    def parse(cls, opts: Mapping[str, object], now: str) -> _UpsertSpec:
        _require_table(opts.get("values"), "upsert requires a 'values' table")
        values = as_map(opts.get("values"))
        if not values:
            raise QueryRejected("upsert 'values' cannot be empty", raises=True)
        _require_table(opts.get("conflict_columns"), "upsert requires a 'conflict_columns' table")
        conflict = as_sequence(opts.get("conflict_columns"))
        if not all(isinstance(c, str) for c in conflict):
            raise QueryRejected("conflict_columns values must be strings", raises=True)
        if not conflict:
            raise QueryRejected("conflict_columns cannot be empty", raises=True)
        raw_update = opts.get("update")
        update = as_map(raw_update) if is_table(raw_update) else None
        do_nothing = opts.get("do_nothing") not in (None, False)  # Lua truthiness
        if do_nothing and not update:
            update = None
        if update is not None and do_nothing:
            raise QueryRejected("upsert: update and do_nothing are mutually exclusive")
        for target in (values, update):
            if target is not None and "updated_at" not in {fold(k) for k in target}:
                target["updated_at"] = now
        return cls(values, [str(c) for c in conflict], update, do_nothing)
