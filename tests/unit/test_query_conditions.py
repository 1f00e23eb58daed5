"""The where language: map form, condition form, sentinels, operators and limits."""

from __future__ import annotations

import pytest

from modulacms.db.query import PluginQueryBuilder, SchemaCatalog, Statement, TableSchema
from modulacms.db.query.conditions import (
    MAX_IN_VALUES,
    MAX_NODES,
    has_value_binding,
    parse_condition,
)
from modulacms.db.query.options import parse_where
from modulacms.errors import QueryRejected

ITEMS = TableSchema(
    "plugin_tasks_items",
    ("id", "title", "n", "status", "score", "created_at", "updated_at"),
    "tasks",
)
BUILDER = PluginQueryBuilder(SchemaCatalog.of([ITEMS]), "tasks")
T = '"plugin_tasks_items"'


def where(value: object) -> Statement:
    return BUILDER.select("items", {"where": value})


def body(statement: Statement) -> str:
    """The WHERE text between ``WHERE`` and ``LIMIT``."""
    return statement.sql.split(" WHERE ", 1)[1].rsplit(" LIMIT ", 1)[0]


# -- map form -----------------------------------------------------------------------------


def test_map_form_is_an_and_of_sorted_keys() -> None:
    statement = where({"title": "x", "n": 3.0})
    assert body(statement) == '"n" = ? AND "title" = ?'
    assert statement.params == [3.0, "x", 100]


@pytest.mark.parametrize(
    ("sentinel", "sql", "params"),
    [
        ({"__op": "eq", "__val": 1}, '"n" = ?', [1]),
        ({"__op": "neq", "__val": 1}, '"n" != ?', [1]),
        ({"__op": "gt", "__val": 1}, '"n" > ?', [1]),
        ({"__op": "gte", "__val": 1}, '"n" >= ?', [1]),
        ({"__op": "lt", "__val": 1}, '"n" < ?', [1]),
        ({"__op": "lte", "__val": 1}, '"n" <= ?', [1]),
        ({"__op": "like", "__val": "a%"}, '"n" LIKE ?', ["a%"]),
        ({"__op": "not_like", "__val": "a%"}, '"n" NOT LIKE ?', ["a%"]),
        ({"__op": "in", "__val": [1, 2]}, '"n" IN (?, ?)', [1, 2]),
        ({"__op": "not_in", "__val": {"1": 1, "2": 2}}, '"n" NOT IN (?, ?)', [1, 2]),
        ({"__op": "between", "__val": [1, 5]}, '"n" BETWEEN ? AND ?', [1, 5]),
        ({"__op": "is_null"}, '"n" IS NULL', []),
        ({"__op": "is_not_null"}, '"n" IS NOT NULL', []),
    ],
)
def test_map_sentinels(sentinel: dict[str, object], sql: str, params: list[object]) -> None:
    statement = where({"n": sentinel})
    assert body(statement) == sql
    assert statement.params == [*params, 100]


@pytest.mark.parametrize(
    ("sentinel", "message"),
    [
        ({"__op": "= 1 OR 1=1 --", "__val": 1}, 'column "n": invalid condition operator'),
        ({"__op": "EQ", "__val": 1}, "invalid condition operator"),
        ({"__op": "regexp", "__val": "x"}, "invalid condition operator"),
        ({"__op": "glob", "__val": "x"}, "invalid condition operator"),
        ({"__op": 5, "__val": 1}, "__op must be a string"),
        ({"__op": "like", "__val": 5}, "like requires a string value"),
        ({"__op": "not_like"}, "not_like requires a string value"),
        ({"__op": "in", "__val": []}, "in requires at least one value"),
        ({"__op": "in", "__val": "1,2"}, "in: expected a list value, got string"),
        ({"__op": "not_in"}, "not_in: expected a list value, got nil"),
        ({"__op": "between", "__val": [1]}, "between requires exactly 2 values, got 1"),
        ({"__op": "eq"}, "condition value cannot be nil"),
        ({"__op": "eq", "__val": {"a": 1}}, "cannot be used as a value"),
    ],
)
def test_bad_map_sentinels(sentinel: dict[str, object], message: str) -> None:
    with pytest.raises(QueryRejected, match=message) as info:
        where({"n": sentinel})
    assert not info.value.raises


def test_map_values_must_be_scalars() -> None:
    with pytest.raises(QueryRejected, match=r'column "title": a table cannot be used as a value'):
        where({"title": {"nested": 1}})
    with pytest.raises(QueryRejected, match="out of range"):
        where({"n": 2**70})


def test_where_or_is_an_or_of_and_groups() -> None:
    statement = BUILDER.select(
        "items", {"where": {"status": "a"}, "where_or": [{"n": 1}, {"n": 2, "title": "t"}]}
    )
    assert body(statement) == '("status" = ?) AND (("n" = ?) OR ("n" = ? AND "title" = ?))'
    assert statement.params == ["a", 1, 2, "t", 100]


def test_where_or_alone_and_empty_groups() -> None:
    statement = BUILDER.select("items", {"where_or": [{"n": 1}, {}, {"n": 2}]})
    assert body(statement) == '("n" = ?) OR ("n" = ?)'


def test_empty_where_means_no_filter() -> None:
    assert " WHERE " not in where({}).sql
    assert " WHERE " not in where("n = 1").sql  # not a table: ignored, like the original


def test_mixed_and_gapped_where_tables() -> None:
    with pytest.raises(QueryRejected, match="cannot mix string keys"):
        where({"1": ["n", "=", 1], "title": "x"})
    with pytest.raises(QueryRejected, match="non-contiguous integer keys"):
        where({1: ["n", "=", 1], 3: ["n", "=", 2]})


def test_integer_keyed_dict_is_a_condition_list() -> None:
    statement = where({1: ["n", "=", 1], 2: ["title", "=", "x"]})
    assert body(statement) == '("n" = ? AND "title" = ?)'


# -- condition form -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "sql", "params"),
    [
        (["n", "=", 1], '"n" = ?', [1]),
        (["n", "!=", 1], '"n" <> ?', [1]),
        (["n", "<>", 1], '"n" <> ?', [1]),
        (["title", "like", "a%"], '"title" LIKE ?', ["a%"]),
        (["n", ">=", 2], '"n" >= ?', [2]),
        (["n", "is null"], '"n" IS NULL', []),
        (["n", "IS NOT NULL"], '"n" IS NOT NULL', []),
        (["n", "in", [1, 2, 3]], '"n" IN (?, ?, ?)', [1, 2, 3]),
        (["n", "BETWEEN", [1, 9]], '"n" BETWEEN ? AND ?', [1, 9]),
        (["and", [["n", "=", 1], ["n", "=", 2]]], '("n" = ? AND "n" = ?)', [1, 2]),
        (["OR", [["n", "=", 1], ["n", "=", 2]]], '("n" = ? OR "n" = ?)', [1, 2]),
        (["NOT", ["n", "=", 1]], 'NOT ("n" = ?)', [1]),
        ([["n", "=", 1], ["title", "=", "x"]], '("n" = ? AND "title" = ?)', [1, "x"]),
    ],
)
def test_condition_form(condition: list[object], sql: str, params: list[object]) -> None:
    statement = where(condition)
    assert body(statement) == sql
    assert statement.params == [*params, 100]


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        (["n", "==", 1], 'unsupported operator "=="'),
        (["n", "; DROP TABLE x", 1], "unsupported operator"),
        (["n", "NOT LIKE", "x"], 'unsupported operator "NOT LIKE"'),
        (["n", "NOT IN", [1]], 'unsupported operator "NOT IN"'),
        (["n", "REGEXP", "x"], "unsupported operator"),
        (["n", "GLOB", "x"], "unsupported operator"),
        (["n", "MATCH", "x"], "unsupported operator"),
        (["n", "IS", 1], 'unsupported operator "IS"'),
        (["n", "= ? OR 1=1 --", 1], "unsupported operator"),
        (["n", 5, 1], "element 2 must be an operator string, got number"),
        (["n", "="], r'compare with "=" requires a non-nil value \(element 3\)'),
        (["n", "IN", []], "IN requires at least one value"),
        (["n", "IN", 5], "IN requires a table of values as element 3"),
        (["n", "BETWEEN", [1]], "BETWEEN requires exactly 2 non-nil values"),
        (["n", "BETWEEN", 1], "BETWEEN requires a table of 2 values"),
        (["AND", "x"], "AND requires a table of child conditions"),
        (["AND", []], "condition sequence cannot be empty"),
        (["OR", [5]], "child condition must be a table, got number"),
        (["NOT", 1], "NOT requires a condition table"),
        ([5, "=", 1], "condition element 1 must be a string or table, got number"),
        ([{}], "empty condition table"),
        (["n", "=", {"a": 1}], "cannot be used as a value"),
    ],
)
def test_bad_conditions(condition: list[object], message: str) -> None:
    with pytest.raises(QueryRejected, match=message) as info:
        where(condition)
    assert not info.value.raises
    assert info.value.message.startswith("where condition: ")


def nested_not(depth: int) -> list[object]:
    node: list[object] = ["n", "=", 1]
    for _ in range(depth):
        node = ["NOT", node]
    return node


def test_depth_ten_is_allowed_eleven_is_not() -> None:
    assert body(where(nested_not(10))).count("NOT (") == 10
    with pytest.raises(QueryRejected, match=r"exceeds maximum depth \(10\)"):
        where(nested_not(11))


def test_hostile_depth_is_refused_without_recursion_error() -> None:
    with pytest.raises(QueryRejected, match="maximum depth"):
        parse_condition(nested_not(5000))


def test_node_limit() -> None:
    ok = [["n", "=", i] for i in range(MAX_NODES - 1)]  # plus the implicit AND node
    assert len(where(ok).params) == MAX_NODES - 1 + 1
    with pytest.raises(QueryRejected, match=r"maximum node count \(50\)"):
        where([*ok, ["n", "=", 0]])


def test_in_value_limit() -> None:
    values = list(range(MAX_IN_VALUES))
    assert body(where(["n", "IN", values])).count("?") == MAX_IN_VALUES
    with pytest.raises(QueryRejected, match=r"IN clause exceeds maximum values \(500\), got 501"):
        where(["n", "IN", [*values, 0]])


def test_condition_columns_must_be_unqualified_and_known() -> None:
    with pytest.raises(QueryRejected, match="invalid where column"):
        where(["items.n", "=", 1])
    with pytest.raises(QueryRejected, match="no such column: nope"):
        where(["nope", "=", 1])
    with pytest.raises(QueryRejected, match="SQL keyword"):
        where(["order", "=", 1])


def test_aggregate_comparisons_belong_in_having() -> None:
    with pytest.raises(QueryRejected, match="only allowed in having"):
        where([{"__agg": "COUNT", "__arg": "*"}, ">", 1])


@pytest.mark.parametrize(
    ("condition", "bound"),
    [
        (["n", "IS NULL"], False),
        (["NOT", ["n", "IS NOT NULL"]], False),
        (["OR", [["n", "IS NULL"], ["title", "IS NULL"]]], False),
        (["n", "=", 1], True),
        (["NOT", ["n", "IN", [1]]], True),
        (["AND", [["n", "IS NULL"], ["n", "BETWEEN", [1, 2]]]], True),
    ],
)
def test_value_binding_detection(condition: list[object], bound: bool) -> None:
    assert has_value_binding(parse_condition(condition)) is bound


def test_parse_where_classifies_shapes() -> None:
    assert parse_where(None).empty
    assert parse_where({}).empty
    assert parse_where([]).empty
    assert parse_where({"n": 1}).leaves
    assert parse_where([["n", "=", 1]]).condition is not None
