"""The where language of spec §4.5: map form, condition form and aggregates.

Lua tables arrive as the plugin runtime converts them (spec §3): sequences as ``list``,
other tables as ``dict``; an integer key may be an ``int`` or its decimal string. Parsing
turns them into a small tree of frozen nodes whose column names are still unresolved;
:func:`render` then resolves every name through the caller's resolver and turns every
value into a ``?`` parameter. No value ever reaches SQL text.

Limits of the condition form (depth 10, 50 nodes, 500 IN values) are enforced while
parsing, so a hostile, deeply nested table is refused before it can exhaust the stack.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Union

from modulacms.errors import QueryRejected

from .identifiers import show

MAX_DEPTH = 10
MAX_NODES = 50
MAX_IN_VALUES = 500
AGGREGATE_FUNCTIONS = ("COUNT", "SUM", "AVG", "MIN", "MAX")

_COMPARE_OPS = frozenset({"=", "<>", ">", "<", ">=", "<=", "LIKE"})
_MAP_OPS = {"eq": "=", "neq": "!=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
_INT_KEY = re.compile(r"[1-9][0-9]{0,17}")
_INT64 = (-(2**63), 2**63 - 1)


@dataclass(frozen=True, slots=True)
class Aggregate:
    """``{__agg, __arg, __alias}``: an aggregate column or the left side of a HAVING test."""

    func: str
    arg: str
    alias: str = ""


@dataclass(frozen=True, slots=True)
class Compare:
    column: str
    op: str
    value: object


@dataclass(frozen=True, slots=True)
class InList:
    column: str
    values: tuple[object, ...]
    negate: bool = False


@dataclass(frozen=True, slots=True)
class Between:
    column: str
    low: object
    high: object


@dataclass(frozen=True, slots=True)
class NullCheck:
    column: str
    negate: bool = False


@dataclass(frozen=True, slots=True)
class AggCompare:
    agg: Aggregate
    op: str
    value: object


@dataclass(frozen=True, slots=True)
class Junction:
    op: str  # "AND" | "OR"
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Not:
    child: Node


Node = Union[Compare, InList, Between, NullCheck, AggCompare, Junction, Not]  # noqa: UP007


# -- Lua table helpers ----------------------------------------------------------------


def is_table(value: object) -> bool:
    """Whether a converted Lua value was a table."""
    return isinstance(value, Mapping | list | tuple)


def int_key(key: object) -> int | None:
    """A positive integer table key (``1`` or ``"1"``), else ``None``."""
    if isinstance(key, bool):
        return None
    if isinstance(key, int):
        return key if key > 0 else None
    if isinstance(key, float) and key.is_integer() and key > 0:
        return int(key)
    if isinstance(key, str) and _INT_KEY.fullmatch(key):
        return int(key)
    return None


def lua_index(table: object, index: int) -> object:
    """``table[index]`` with Lua's 1-based indexing; ``None`` when absent."""
    if isinstance(table, list | tuple):
        return table[index - 1] if 0 < index <= len(table) else None
    if isinstance(table, Mapping):
        for key, value in table.items():
            if int_key(key) == index:
                return value
    return None


def as_sequence(table: object) -> list[object]:
    """The integer-keyed entries of a table in key order (what Lua's ipairs-like walk sees)."""
    if isinstance(table, list | tuple):
        return list(table)
    if isinstance(table, Mapping):
        keyed = [(k, v) for k, v in ((int_key(k), v) for k, v in table.items()) if k is not None]
        return [v for _, v in sorted(keyed, key=lambda kv: kv[0])]
    return []


def lua_type(value: object) -> str:
    """The Lua type name a value came from, for error messages."""
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str | bytes):
        return "string"
    return "table" if is_table(value) else "userdata"


def check_value(value: object, where: str) -> object:
    """Accept a bindable scalar; tables and other objects are refused (spec §3)."""
    if value is None or isinstance(value, str | bytes | bool | float):
        return value
    if isinstance(value, int):
        if not _INT64[0] <= value <= _INT64[1]:
            raise QueryRejected(f"{where}: integer {value} is out of range")
        return value
    raise QueryRejected(
        f"{where}: a {lua_type(value)} cannot be used as a value (encode tables with json.encode)"
    )


# -- map form -------------------------------------------------------------------------


def parse_map(where: Mapping[str, object] | Mapping[object, object]) -> list[Node]:
    """``{col = value | sentinel, ...}`` as AND-ed leaves, keys in sorted order."""
    items = sorted((str(k), v) for k, v in where.items())
    return [_map_leaf(column, value) for column, value in items]


def _map_leaf(column: str, value: object) -> Node:
    if isinstance(value, Mapping) and "__op" in value:
        try:
            return _sentinel(column, value)
        except QueryRejected as exc:
            raise QueryRejected(f"column {show(column)}: {exc.message}") from None
    if value is None:
        return NullCheck(column)
    return Compare(column, "=", check_value(value, f"column {show(column)}"))


def _sentinel(column: str, sentinel: Mapping[object, object]) -> Node:
    op = sentinel["__op"]
    if not isinstance(op, str):
        raise QueryRejected("invalid condition: __op must be a string")
    value = sentinel.get("__val")
    where = f"column {show(column)}"
    if op in _MAP_OPS:
        if value is None:
            raise QueryRejected("condition value cannot be nil")
        return Compare(column, _MAP_OPS[op], check_value(value, where))
    if op in ("like", "not_like"):
        if not isinstance(value, str):
            raise QueryRejected(f"{op} requires a string value")
        return Compare(column, "LIKE" if op == "like" else "NOT LIKE", value)
    if op in ("in", "not_in", "between"):
        if not is_table(value):
            raise QueryRejected(f"{op}: expected a list value, got {lua_type(value)}")
        values = tuple(check_value(v, where) for v in as_sequence(value))
        if op == "between":
            if len(values) != 2:
                raise QueryRejected(f"between requires exactly 2 values, got {len(values)}")
            return Between(column, values[0], values[1])
        if not values:
            raise QueryRejected(f"{op} requires at least one value")
        return InList(column, values, negate=op == "not_in")
    if op in ("is_null", "is_not_null"):
        return NullCheck(column, negate=op == "is_not_null")
    raise QueryRejected(f"invalid condition operator {show(op)}")


# -- condition form -------------------------------------------------------------------


class _Budget:
    """Counts nodes across one condition tree."""

    def __init__(self) -> None:
        self.nodes = 0

    def take(self) -> None:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise QueryRejected(f"condition tree exceeds maximum node count ({MAX_NODES})")


def parse_condition(table: object) -> Node:
    """Parse a condition-form table (a pure sequence) into a node tree."""
    return _condition(table, 0, _Budget())


def _condition(table: object, depth: int, budget: _Budget) -> Node:
    budget.take()
    first = lua_index(table, 1)
    if first is None:
        raise QueryRejected("empty condition table")
    if isinstance(first, str):
        keyword = first.upper()
        if keyword in ("AND", "OR"):
            children = lua_index(table, 2)
            if not is_table(children):
                raise QueryRejected(f"{keyword} requires a table of child conditions as element 2")
            return Junction(keyword, _children(children, depth, budget, keyword))
        if keyword == "NOT":
            child = lua_index(table, 2)
            if not is_table(child):
                raise QueryRejected("NOT requires a condition table as element 2")
            _descend(depth)
            return Not(_wrap("NOT", lambda: _condition(child, depth + 1, budget)))
        return _leaf(table, first)
    if isinstance(first, Mapping) and "__agg" in first:
        return _agg_compare(table, first)
    if is_table(first):
        return Junction("AND", _children(table, depth, budget, "implicit AND"))
    raise QueryRejected(f"condition element 1 must be a string or table, got {lua_type(first)}")


def _descend(depth: int) -> None:
    if depth + 1 > MAX_DEPTH:
        raise QueryRejected(f"condition tree exceeds maximum depth ({MAX_DEPTH})")


def _wrap(label: str, parse: Callable[[], Node]) -> Node:
    try:
        return parse()
    except QueryRejected as exc:
        raise QueryRejected(f"{label}: {exc.message}") from None


def _children(table: object, depth: int, budget: _Budget, label: str) -> tuple[Node, ...]:
    _descend(depth)
    nodes = []
    for child in as_sequence(table):
        if not is_table(child):
            raise QueryRejected(f"{label}: child condition must be a table, got {lua_type(child)}")
        try:
            nodes.append(_condition(child, depth + 1, budget))
        except QueryRejected as exc:
            raise QueryRejected(f"{label}: {exc.message}") from None
    if not nodes:
        raise QueryRejected(f"{label}: condition sequence cannot be empty")
    return tuple(nodes)


def _leaf(table: object, column: str) -> Node:
    second = lua_index(table, 2)
    if not isinstance(second, str):
        raise QueryRejected(
            f"condition element 2 must be an operator string, got {lua_type(second)}"
        )
    op = second.upper()
    third = lua_index(table, 3)
    where = f"column {show(column)}"
    if op in ("IS NULL", "IS NOT NULL"):
        return NullCheck(column, negate=op == "IS NOT NULL")
    if op == "IN":
        if not is_table(third):
            raise QueryRejected("IN requires a table of values as element 3")
        values = tuple(check_value(v, where) for v in as_sequence(third))
        if not values:
            raise QueryRejected("IN requires at least one value")
        if len(values) > MAX_IN_VALUES:
            raise QueryRejected(
                f"IN clause exceeds maximum values ({MAX_IN_VALUES}), got {len(values)}"
            )
        return InList(column, values)
    if op == "BETWEEN":
        if not is_table(third):
            raise QueryRejected("BETWEEN requires a table of 2 values as element 3")
        low, high = lua_index(third, 1), lua_index(third, 2)
        if low is None or high is None:
            raise QueryRejected("BETWEEN requires exactly 2 non-nil values")
        return Between(column, check_value(low, where), check_value(high, where))
    op = "<>" if op == "!=" else op
    if op not in _COMPARE_OPS:
        raise QueryRejected(f"unsupported operator {show(op)}")
    if third is None:
        raise QueryRejected(f"compare with {show(op)} requires a non-nil value (element 3)")
    return Compare(column, op, check_value(third, where))


def parse_aggregate(sentinel: Mapping[object, object]) -> Aggregate:
    """An aggregate sentinel ``{__agg=, __arg=, __alias=}`` (validated when rendered)."""
    func = sentinel.get("__agg")
    if not isinstance(func, str):
        raise QueryRejected("aggregate sentinel __agg must be a string")
    arg, alias = sentinel.get("__arg"), sentinel.get("__alias")
    return Aggregate(
        func, arg if isinstance(arg, str) else "", alias if isinstance(alias, str) else ""
    )


def _agg_compare(table: object, sentinel: Mapping[object, object]) -> Node:
    agg = parse_aggregate(sentinel)
    second = lua_index(table, 2)
    if not isinstance(second, str):
        raise QueryRejected(
            f"aggregate condition element 2 must be an operator string, got {lua_type(second)}"
        )
    op = "<>" if second.upper() == "!=" else second.upper()
    if op not in _COMPARE_OPS - {"LIKE"}:
        raise QueryRejected(f"invalid aggregate compare operator {show(op)}")
    value = lua_index(table, 3)
    if value is None:
        raise QueryRejected("aggregate condition element 3 (value) cannot be nil")
    return AggCompare(agg, op, check_value(value, "aggregate condition"))


# -- inspection and rendering ---------------------------------------------------------


def has_value_binding(node: Node) -> bool:
    """Whether any leaf binds a value (what update/delete demand of a condition)."""
    if isinstance(node, Junction):
        return any(has_value_binding(child) for child in node.children)
    if isinstance(node, Not):
        return has_value_binding(node.child)
    return not isinstance(node, NullCheck)


def has_aggregate(node: Node) -> bool:
    """Whether an aggregate comparison occurs anywhere in the tree."""
    if isinstance(node, Junction):
        return any(has_aggregate(child) for child in node.children)
    if isinstance(node, Not):
        return has_aggregate(node.child)
    return isinstance(node, AggCompare)


ColumnSql = Callable[[str], str]
AggregateSql = Callable[[Aggregate], str]


def render(node: Node, column: ColumnSql, aggregate: AggregateSql, params: list[object]) -> str:
    """SQL text for ``node``; values are appended to ``params`` in placeholder order."""
    if isinstance(node, Junction):
        parts = [render(child, column, aggregate, params) for child in node.children]
        return "(" + f" {node.op} ".join(parts) + ")"
    if isinstance(node, Not):
        return "NOT (" + render(node.child, column, aggregate, params) + ")"
    if isinstance(node, AggCompare):
        params.append(node.value)
        return f"{aggregate(node.agg)} {node.op} ?"
    target = column(node.column)
    if isinstance(node, Compare):
        params.append(node.value)
        return f"{target} {node.op} ?"
    if isinstance(node, InList):
        params.extend(node.values)
        marks = ", ".join("?" for _ in node.values)
        return f"{target} {'NOT IN' if node.negate else 'IN'} ({marks})"
    if isinstance(node, Between):
        params.extend((node.low, node.high))
        return f"{target} BETWEEN ? AND ?"
    return f"{target} IS {'NOT NULL' if node.negate else 'NULL'}"


def render_map_where(
    where: Sequence[Node],
    where_or: Sequence[Sequence[Node]],
    column: ColumnSql,
    params: list[object],
) -> str:
    """The map path's WHERE text (without the keyword), or ``""`` when there is no filter.

    ``where`` only: ``a AND b``; ``where_or`` only: ``(g1) OR (g2)``; both:
    ``(a AND b) AND ((g1) OR (g2))``. Empty groups are skipped.
    """

    def conj(nodes: Sequence[Node]) -> str:
        return " AND ".join(render(n, column, _no_aggregate, params) for n in nodes)

    groups = [g for g in where_or if g]
    parts = []
    if where:
        parts.append(f"({conj(where)})" if groups else conj(where))
    if groups:
        ors = " OR ".join(f"({conj(g)})" for g in groups)
        parts.append(f"({ors})" if where else ors)
    return " AND ".join(parts)


def _no_aggregate(agg: Aggregate) -> str:
    raise QueryRejected("aggregate conditions are only allowed in having")
