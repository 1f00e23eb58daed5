"""Parsing of the ``opts`` tables of ``db.query``/``query_one``/``count``/``exists``.

The parse is as lenient as the original where the original is lenient (a field of the
wrong type is ignored, as if absent) and strict where it is strict (a malformed entry is
an error). Nothing here knows the schema: names are checked when the builder resolves them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from modulacms.errors import QueryRejected

from .conditions import (
    Aggregate,
    Node,
    as_sequence,
    int_key,
    is_table,
    parse_aggregate,
    parse_condition,
    parse_map,
)
from .identifiers import show

DEFAULT_LIMIT = 100
MAX_LIMIT = 10_000
_MAX_OFFSET = 2**63 - 1
_JOIN_KINDS = {"": "INNER JOIN", "inner": "INNER JOIN", "left": "LEFT JOIN", "right": "RIGHT JOIN"}


@dataclass(frozen=True, slots=True)
class Where:
    """A parsed ``where``: map-form leaves, or one condition tree, or nothing."""

    leaves: tuple[Node, ...] = ()
    condition: Node | None = None

    @property
    def empty(self) -> bool:
        return not self.leaves and self.condition is None


@dataclass(frozen=True, slots=True)
class OrderTerm:
    column: str
    desc: bool = False


@dataclass(frozen=True, slots=True)
class Join:
    kind: str  # "INNER JOIN" | "LEFT JOIN" | "RIGHT JOIN"
    table: str  # short name, prefixed when resolved
    local_col: str
    foreign_col: str


@dataclass(frozen=True, slots=True)
class SelectOptions:
    """Every field of a query's ``opts`` table, parsed but not yet checked against a schema."""

    where: Where = field(default_factory=Where)
    where_or: tuple[tuple[Node, ...], ...] = ()
    columns: tuple[str, ...] = ()
    aggregates: tuple[Aggregate, ...] = ()
    order_by: tuple[OrderTerm, ...] = ()
    order_is_string: bool = False
    group_by: tuple[str, ...] = ()
    having_leaves: tuple[Node, ...] = ()
    having_condition: Node | None = None
    distinct: bool = False
    limit: int = 0
    offset: int = 0
    joins: tuple[Join, ...] = ()

    @property
    def condition_path(self) -> bool:
        """Spec §4.4: a list-form where or any aggregate column selects the condition path."""
        return self.where.condition is not None or bool(self.aggregates)


def as_map(table: object) -> dict[str, object]:
    """A table as a column map; integer keys become strings as in spec §3."""
    if isinstance(table, Mapping):
        return {str(k): v for k, v in table.items()}
    if isinstance(table, list | tuple):
        return {str(i): v for i, v in enumerate(table, start=1)}
    return {}


def parse_where(where: object) -> Where:
    """Classify and parse a ``where`` value (spec §4.5); non-tables mean "no filter"."""
    if not is_table(where) or not where:
        return Where()
    if isinstance(where, list | tuple):
        return Where(condition=_labelled("where condition", where))
    assert isinstance(where, Mapping)
    int_keys = [k for k in (int_key(key) for key in where) if k is not None]
    if int_keys and len(int_keys) != len(where):
        raise QueryRejected(
            "where table cannot mix string keys (equality format) and sequence entries "
            "(condition format); use either {status = 'active'} or {{'status', '=', 'active'}}"
        )
    if not int_keys:
        return Where(leaves=tuple(parse_map(where)))
    if max(int_keys) != len(int_keys):
        raise QueryRejected("where table has non-contiguous integer keys")
    return Where(condition=_labelled("where condition", where))


def _labelled(label: str, table: object) -> Node:
    try:
        return parse_condition(table)
    except QueryRejected as exc:
        raise QueryRejected(f"{label}: {exc.message}") from None


def parse_where_or(value: object) -> tuple[tuple[Node, ...], ...]:
    """``where_or``: a list of map-form groups; non-table entries are ignored."""
    groups = []
    for group in as_sequence(value):
        if isinstance(group, Mapping | list | tuple):
            try:
                groups.append(tuple(parse_map(as_map(group))))
            except QueryRejected as exc:
                raise QueryRejected(f"where_or group: {exc.message}") from None
    return tuple(groups)


def parse_select(opts: object) -> SelectOptions:
    """Parse a query's ``opts`` table; anything that is not a map yields the defaults."""
    if not isinstance(opts, Mapping):
        return SelectOptions()
    where = parse_where(opts.get("where"))
    columns, aggregates = _columns(opts.get("columns"))
    orders, is_string = _order_by(opts.get("order_by"), opts.get("desc") is True)
    having_leaves: tuple[Node, ...] = ()
    having_condition = None
    having = opts.get("having")
    if where.condition is not None or aggregates:
        if isinstance(having, list | tuple) and having:
            having_condition = _labelled("having condition", having)
    elif is_table(having):
        having_leaves = tuple(parse_map(as_map(having)))
    return SelectOptions(
        where=where,
        where_or=parse_where_or(opts.get("where_or")),
        columns=columns,
        aggregates=aggregates,
        order_by=orders,
        order_is_string=is_string,
        group_by=tuple(c for c in as_sequence(opts.get("group_by")) if isinstance(c, str)),
        having_leaves=having_leaves,
        having_condition=having_condition,
        distinct=opts.get("distinct") is True,
        limit=_number(opts.get("limit")),
        offset=_number(opts.get("offset")),
        joins=_joins(opts.get("joins")),
    )


def effective_limit(limit: int, default: int = DEFAULT_LIMIT) -> int:
    """Absent or non-positive means ``default``; anything above 10000 becomes 10000."""
    return default if limit <= 0 else min(limit, MAX_LIMIT)


def _number(value: object) -> int:
    """A Lua number truncated like the original's int64 conversion; others count as 0."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0
    if isinstance(value, float):
        if math.isnan(value):
            return 0
        if math.isinf(value):
            return _MAX_OFFSET if value > 0 else 0
    return max(-_MAX_OFFSET, min(int(value), _MAX_OFFSET))


def _columns(value: object) -> tuple[tuple[str, ...], tuple[Aggregate, ...]]:
    names: list[str] = []
    aggregates: list[Aggregate] = []
    for entry in as_sequence(value):
        if isinstance(entry, str):
            names.append(entry)
        elif isinstance(entry, Mapping) and "__agg" in entry:
            try:
                aggregates.append(parse_aggregate(entry))
            except QueryRejected as exc:
                raise QueryRejected(f"columns: {exc.message}") from None
        elif is_table(entry):
            raise QueryRejected(
                "columns: table element is not an aggregate sentinel (missing __agg key)"
            )
    return tuple(names), tuple(aggregates)


def _order_by(value: object, desc: bool) -> tuple[tuple[OrderTerm, ...], bool]:
    if isinstance(value, str):
        return ((OrderTerm(value, desc),) if value else ()), True
    terms = []
    for entry in as_sequence(value):
        if not isinstance(entry, Mapping):
            continue
        column = entry.get("column")
        if not isinstance(column, str) or not column:
            raise QueryRejected("order_by entry missing 'column' string field")
        terms.append(OrderTerm(column, entry.get("desc") is True))
    return tuple(terms), False


def _joins(value: object) -> tuple[Join, ...]:
    joins = []
    for entry in as_sequence(value):
        if not isinstance(entry, Mapping):
            continue
        fields = {k: entry.get(k) for k in ("type", "table", "local_col", "foreign_col")}
        text = {k: v if isinstance(v, str) else "" for k, v in fields.items()}
        kind = _JOIN_KINDS.get(text["type"].lower())
        if kind is None:
            raise QueryRejected(
                f"invalid join type {show(text['type'])} (must be inner, left, or right)"
            )
        for key in ("table", "local_col", "foreign_col"):
            if not text[key]:
                raise QueryRejected(f"join entry missing '{key}' field")
        joins.append(Join(kind, text["table"], text["local_col"], text["foreign_col"]))
    return tuple(joins)
