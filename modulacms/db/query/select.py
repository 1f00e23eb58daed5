"""SELECT assembly shared by ``db.query`` and ``core.query``: the two execution paths.

*Condition path* (a list-form ``where`` or any aggregate column): honours the condition
``where``, unqualified ``columns``, aggregates, ``group_by``, a condition ``having``,
``order_by`` (max 8), ``distinct``, ``limit``, ``offset``; ignores ``where_or``, ``joins``,
a map ``where`` and a map ``having``; ``query_one`` here also ignores ``order_by``.
*Map path*: everything else, including joins over the plugin's own tables and qualified
``table.column`` names. Both paths bind ``LIMIT`` and ``OFFSET`` as parameters.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace

from modulacms.errors import QueryRejected

from .conditions import (
    AGGREGATE_FUNCTIONS,
    Aggregate,
    Node,
    has_aggregate,
    render,
    render_map_where,
)
from .identifiers import Scope, TableSchema, check_identifier, show
from .identifiers import quote as q
from .options import SelectOptions, effective_limit, parse_where
from .statement import Statement

MAX_SELECT_COLUMNS = 64
MAX_ORDER_COLUMNS = 8


@contextmanager
def labelled(label: str) -> Iterator[None]:
    """Prefix the message of a rejection raised inside the block."""
    try:
        yield
    except QueryRejected as exc:
        raise QueryRejected(f"{label}: {exc.message}", raises=exc.raises) from None


def aggregate_sql(agg: Aggregate, scope: Scope, *, alias: bool) -> str:
    """``COUNT(*)``, ``SUM("amount") AS "total"``: the function is allow-listed."""
    func = agg.func.upper()
    if func not in AGGREGATE_FUNCTIONS:
        raise QueryRejected(
            f"invalid aggregate: unsupported function {show(agg.func)} "
            "(must be COUNT, SUM, AVG, MIN or MAX)"
        )
    if agg.arg == "*":
        if func != "COUNT":
            raise QueryRejected(f'invalid aggregate: "*" is only allowed with COUNT, not {func}')
        sql = f"{func}(*)"
    else:
        with labelled("invalid aggregate"):
            sql = f"{func}({scope.column(agg.arg)})"
    if alias and agg.alias:
        sql += " AS " + q(check_identifier(agg.alias, "column", role="aggregate alias"))
    return sql


def filter_sql(node: Node, scope: Scope, params: list[object]) -> str:
    """A condition-form WHERE body; aggregate tests belong in HAVING only."""
    with labelled("invalid filter"):
        if has_aggregate(node):
            raise QueryRejected("aggregate conditions are only allowed in having")
        return render(node, lambda c: scope.column(c, role="where column"), _no_agg, params)


def _no_agg(agg: Aggregate) -> str:
    raise QueryRejected("aggregate conditions are only allowed in having")


def order_sql(o: SelectOptions, scope: Scope, *, qualified: bool, alias: bool) -> str:
    terms = []
    for term in o.order_by:
        # The string form is one bare column on both paths; "col DESC" is refused.
        column = scope.column(
            term.column,
            qualified=qualified and not o.order_is_string,
            alias=alias,
            role="order_by column",
        )
        terms.append(f"{column} {'DESC' if term.desc else 'ASC'}")
    return ", ".join(terms)


def append_limit(sql: list[str], params: list[object], o: SelectOptions, one: bool) -> None:
    sql.append("LIMIT ?")
    params.append(1 if one else effective_limit(o.limit))
    if not one and o.offset > 0:
        sql.append("OFFSET ?")
        params.append(o.offset)


def condition_select(base: TableSchema, o: SelectOptions, one: bool) -> Statement:
    """The condition path (spec §4.4): list-form where and/or aggregate columns."""
    if one:
        o = replace(o, order_by=())
    if len(o.order_by) > MAX_ORDER_COLUMNS:
        raise QueryRejected(
            f"too many order_by columns: {len(o.order_by)} (max {MAX_ORDER_COLUMNS})"
        )
    if o.having_condition is not None and not o.group_by:
        raise QueryRejected("having requires group_by")
    scope = Scope(base, aliases=[a.alias for a in o.aggregates if a.alias])
    params: list[object] = []
    cols = [scope.column(c, role="column") for c in o.columns]
    cols += [aggregate_sql(a, scope, alias=True) for a in o.aggregates]
    sql = [_select_kw(o), ", ".join(cols) or "*", "FROM", q(base.name)]
    if o.where.condition is not None:
        sql += ["WHERE", filter_sql(o.where.condition, scope, params)]
    if o.group_by:
        sql += [
            "GROUP BY",
            ", ".join(scope.column(c, role="group_by column") for c in o.group_by),
        ]
    if o.having_condition is not None:
        with labelled("invalid having"):
            having = render(
                o.having_condition,
                lambda c: scope.column(c, alias=True, role="having column"),
                lambda a: aggregate_sql(a, scope, alias=False),
                params,
            )
        sql += ["HAVING", having]
    if o.order_by:
        sql += ["ORDER BY", order_sql(o, scope, qualified=False, alias=True)]
    append_limit(sql, params, o, one)
    return Statement(" ".join(sql), params)


def map_select(
    base: TableSchema, o: SelectOptions, one: bool, plugin: str, joined: list[TableSchema]
) -> Statement:
    """The map path (spec §4.4): map where, where_or, joins, map having."""
    scope = Scope(base, plugin=plugin, joined=joined)

    def column(name: str, role: str = "column") -> str:
        return scope.column(name, qualified=True, role=role)

    params: list[object] = []
    cols = ", ".join(column(c) for c in o.columns) or "*"
    sql = [_select_kw(o), cols, "FROM", q(base.name)]
    for join, table in zip(o.joins, joined, strict=True):
        local, foreign = (
            column(join.local_col, "join column"),
            column(join.foreign_col, "join column"),
        )
        sql += [join.kind, q(table.name), "ON", f"{local} = {foreign}"]
    where = render_map_where(
        o.where.leaves, o.where_or, lambda c: column(c, "where column"), params
    )
    if where:
        sql += ["WHERE", where]
    if o.group_by:
        sql += ["GROUP BY", ", ".join(column(c, "group_by column") for c in o.group_by)]
    if o.having_leaves:
        if not o.group_by:
            raise QueryRejected("having requires group_by")
        with labelled("invalid having"):
            having = render_map_where(o.having_leaves, (), column, params)
        sql += ["HAVING", having]
    if o.order_by:
        sql += ["ORDER BY", order_sql(o, scope, qualified=True, alias=False)]
    append_limit(sql, params, o, one)
    return Statement(" ".join(sql), params)


def probe(head: str, base: TableSchema, opts: object, tail: str, plugin: str | None) -> Statement:
    """``count``/``exists``: only ``where`` (map or condition form) is honoured."""
    where = parse_where(opts.get("where") if isinstance(opts, Mapping) else None)
    scope = Scope(base, plugin=plugin)
    params: list[object] = []
    if where.condition is not None:
        body = filter_sql(where.condition, scope, params)
    else:
        body = render_map_where(
            where.leaves,
            (),
            lambda c: scope.column(c, qualified=True, role="where column"),
            params,
        )
    sql = f"{head} {q(base.name)}" + (f" WHERE {body}" if body else "") + tail
    return Statement(sql, params + ([1] if tail else []))


def _select_kw(o: SelectOptions) -> str:
    return "SELECT DISTINCT" if o.distinct else "SELECT"
