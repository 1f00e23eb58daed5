"""Read statements for the ``core`` module's gated access to CMS tables (spec §5).

Three gates run before anything is built: the table must be on the whitelist, its policy
must allow the operation, and the plugin's approved access (``plugins.approved_access``)
must grant it. Then the same option parsing as ``db.*`` applies, narrowed:

* names are the raw core names and columns are unqualified;
* ``users.hash`` can never be named (in columns, where, order_by) and ``SELECT *`` lists
  every other column instead of stripping it afterwards;
* joins, group_by, having, distinct and aggregates are refused with a clear message
  (the original silently ignored them);
* **[GO-BUG] fixed**: a condition-form (list) ``where`` is honoured by query/query_one
  too, not only by count/exists. With a map ``where_or`` as well, both must hold.

Core writes go through the service layer; :func:`check_core_access` is shared with it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from modulacms.errors import QueryRejected

from .conditions import render_map_where
from .identifiers import SchemaCatalog, Scope, TableSchema, fold, quote, show
from .options import SelectOptions, parse_select, parse_where
from .select import append_limit, filter_sql, order_sql
from .statement import Statement

#: Approved access of one plugin: core table name -> operations ("read", "write").
CoreAccess = Mapping[str, Sequence[str]]


@dataclass(frozen=True, slots=True)
class CorePolicy:
    read: bool = True
    write: bool = False
    blocked: frozenset[str] = frozenset()


CORE_POLICY: Mapping[str, CorePolicy] = {
    "content_data": CorePolicy(write=True),
    "content_fields": CorePolicy(write=True),
    "media": CorePolicy(write=True),
    "datatypes": CorePolicy(),
    "fields": CorePolicy(),
    "tables": CorePolicy(),
    "routes": CorePolicy(),
    "users": CorePolicy(blocked=frozenset({"hash"})),
    "roles": CorePolicy(),
    "permissions": CorePolicy(),
    "role_permissions": CorePolicy(),
    "change_events": CorePolicy(),
}


def check_core_access(plugin: str, access: CoreAccess | None, table: object, op: str) -> str:
    """The three gates of spec §5 for ``op`` ("read" or "write"); returns the table name."""
    if not isinstance(table, str):
        raise QueryRejected("table name must be a string", raises=True)
    policy = CORE_POLICY.get(table)
    if policy is None:
        raise QueryRejected(f"core.{op}: table {show(table)} is not accessible to plugins")
    if not (policy.read if op == "read" else policy.write):
        raise QueryRejected(f"core.{op}: table {show(table)} does not allow {op} access")
    granted = (access or {}).get(table)
    if granted is None:
        raise QueryRejected(
            f"core.{op}: plugin {show(plugin)} has no approved access to table {show(table)}"
        )
    if isinstance(granted, str | bytes) or op not in granted:
        raise QueryRejected(
            f"core.{op}: plugin {show(plugin)} is not approved for {show(op)} "
            f"on table {show(table)}"
        )
    return table


class CoreQueryBuilder:
    """Builds ``core.query``/``query_one``/``count``/``exists`` for one plugin."""

    def __init__(self, catalog: SchemaCatalog, plugin: str, access: CoreAccess | None) -> None:
        self.catalog = catalog
        self.plugin = plugin
        self.access = access

    def _scope(self, table: object) -> Scope:
        name = check_core_access(self.plugin, self.access, table, "read")
        schema = self.catalog.get(name)
        if schema is None or schema.owner is not None:
            raise QueryRejected(f"no such table: {name}")
        return Scope(schema, blocked=CORE_POLICY[name].blocked)

    def select(self, table: object, opts: object = None, *, one: bool = False) -> Statement:
        """``core.query`` (``one=False``) or ``core.query_one`` (``LIMIT 1``)."""
        scope = self._scope(table)
        o = parse_select(opts)
        _refuse_unsupported(o, "core.query_one" if one else "core.query")
        columns = o.columns or _visible(scope.base, scope.blocked)
        params: list[object] = []
        listed = ", ".join(scope.column(c) for c in columns)
        sql = ["SELECT", listed, "FROM", quote(scope.base.name)]
        body = _where(o, scope, params)
        if body:
            sql += ["WHERE", body]
        if o.order_by:
            sql += ["ORDER BY", order_sql(o, scope, qualified=False, alias=False)]
        append_limit(sql, params, o, one)
        return Statement(" ".join(sql), params)

    def count(self, table: object, opts: object = None) -> Statement:
        """``core.count``: honours ``where`` only."""
        return self._probe("SELECT COUNT(*) FROM", table, opts, "")

    def exists(self, table: object, opts: object = None) -> Statement:
        """``core.exists``: ``SELECT 1 ... LIMIT 1``."""
        return self._probe("SELECT 1 FROM", table, opts, " LIMIT ?")

    def _probe(self, head: str, table: object, opts: object, tail: str) -> Statement:
        scope = self._scope(table)
        where = parse_where(opts.get("where") if isinstance(opts, Mapping) else None)
        params: list[object] = []
        body = _where(SelectOptions(where=where), scope, params)
        sql = f"{head} {quote(scope.base.name)}" + (f" WHERE {body}" if body else "") + tail
        return Statement(sql, params + ([1] if tail else []))


def _visible(table: TableSchema, blocked: frozenset[str]) -> tuple[str, ...]:
    return tuple(c for c in table.columns if fold(c) not in blocked)


def _where(o: SelectOptions, scope: Scope, params: list[object]) -> str:
    parts = []
    if o.where.condition is not None:
        parts.append(filter_sql(o.where.condition, scope, params))
    rest = render_map_where(
        o.where.leaves, o.where_or, lambda c: scope.column(c, role="where column"), params
    )
    if rest:
        parts.append(rest)
    return " AND ".join(f"({p})" for p in parts) if len(parts) > 1 else "".join(parts)


def _refuse_unsupported(o: SelectOptions, call: str) -> None:
    for present, what in (
        (o.joins, "joins are"),
        (o.group_by, "group_by is"),
        (o.having_leaves or o.having_condition, "having is"),
        (o.distinct, "distinct is"),
        (o.aggregates, "aggregates are"),
    ):
        if present:
            raise QueryRejected(f"{call}: {what} not supported on core tables")
