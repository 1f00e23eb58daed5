"""SQL built for ``db.*`` calls: both select paths, writes, and their refusals."""

from __future__ import annotations

import itertools

import pytest

from modulacms.db.query import PluginQueryBuilder, SchemaCatalog, TableSchema, batch_size
from modulacms.errors import QueryRejected

ITEMS = TableSchema(
    "plugin_tasks_items",
    ("id", "title", "n", "owner", "created_at", "updated_at"),
    "tasks",
)
OWNERS = TableSchema("plugin_tasks_owners", ("id", "name", "created_at", "updated_at"), "tasks")
OTHER = TableSchema("plugin_a_b_c", ("id", "secret", "created_at", "updated_at"), "a_b")
WIDE = TableSchema("plugin_tasks_wide", tuple(f"c{i}" for i in range(20)), "tasks")
CATALOG = SchemaCatalog.of([ITEMS, OWNERS, OTHER, WIDE])
T = '"plugin_tasks_items"'
COUNT = {"__agg": "COUNT", "__arg": "*", "__alias": "total"}


def builder() -> PluginQueryBuilder:
    ids = (f"id{i}" for i in itertools.count())
    return PluginQueryBuilder(CATALOG, "tasks", ids=lambda: next(ids), clock=lambda: "NOW")


def select(opts: object = None, *, one: bool = False) -> tuple[str, list[object]]:
    return builder().select("items", opts, one=one)


# -- limits, ordering, columns ------------------------------------------------------------


@pytest.mark.parametrize(
    ("limit", "bound"),
    [
        (None, 100),
        (0, 100),
        (-5, 100),
        (10, 10),
        (2.9, 2),
        (10_000, 10_000),
        (50_000, 10_000),
        (float("inf"), 10_000),
        (float("nan"), 100),
        ("5", 100),
        (True, 100),
    ],
)
def test_limit_defaults_and_cap(limit: object, bound: int) -> None:
    sql, params = select({"limit": limit})
    assert sql == f"SELECT * FROM {T} LIMIT ?"
    assert params == [bound]


def test_offset_is_bound_when_positive() -> None:
    assert select({"offset": 20}) == (f"SELECT * FROM {T} LIMIT ? OFFSET ?", [100, 20])
    assert select({"offset": -1}) == (f"SELECT * FROM {T} LIMIT ?", [100])


def test_query_one_is_limit_one_and_ignores_offset() -> None:
    assert select({"offset": 5, "limit": 50}, one=True) == (f"SELECT * FROM {T} LIMIT ?", [1])


def test_order_by_string_and_desc() -> None:
    sql, _ = select({"order_by": "title", "desc": True})
    assert sql == f'SELECT * FROM {T} ORDER BY "title" DESC LIMIT ?'


@pytest.mark.parametrize("order", ["created_at DESC", "title; DROP TABLE x", "items.title", "1"])
def test_order_by_string_is_one_bare_column(order: str) -> None:
    with pytest.raises(QueryRejected, match="invalid order_by column"):
        select({"order_by": order})


def test_order_by_list() -> None:
    sql, _ = select({"order_by": [{"column": "n", "desc": True}, {"column": "items.title"}]})
    assert sql.endswith(f'ORDER BY "n" DESC, {T}."title" ASC LIMIT ?')
    with pytest.raises(QueryRejected, match="order_by entry missing 'column'"):
        select({"order_by": [{"desc": True}]})


def test_columns_and_distinct() -> None:
    sql, _ = select({"columns": ["title", "items.n"], "distinct": True})
    assert sql == f'SELECT DISTINCT "title", {T}."n" FROM {T} LIMIT ?'
    with pytest.raises(QueryRejected, match="no such column: secret"):
        select({"columns": ["secret"]})
    with pytest.raises(QueryRejected, match="too many select columns: 65"):
        select({"columns": ["title"] * 65})
    with pytest.raises(QueryRejected, match="not an aggregate sentinel"):
        select({"columns": [{"x": 1}]})


# -- the two execution paths --------------------------------------------------------------


def test_map_path_honours_joins_where_or_group_by_and_map_having() -> None:
    sql, params = select(
        {
            "columns": ["items.title", "owners.name"],
            "joins": [
                {
                    "type": "LEFT",
                    "table": "owners",
                    "local_col": "items.owner",
                    "foreign_col": "owners.id",
                }
            ],
            "where": {"owners.name": "ann"},
            "where_or": [{"n": 1}, {"n": 2}],
            "group_by": ["items.title", "owners.name"],
            "having": {"owners.name": {"__op": "neq", "__val": "x"}},
        }
    )
    owners = '"plugin_tasks_owners"'
    assert sql == (
        f'SELECT {T}."title", {owners}."name" FROM {T} LEFT JOIN {owners} ON {T}."owner" = '
        f'{owners}."id" WHERE ({owners}."name" = ?) AND (("n" = ?) OR ("n" = ?)) '
        f'GROUP BY {T}."title", {owners}."name" HAVING {owners}."name" != ? LIMIT ?'
    )
    assert params == ["ann", 1, 2, "x", 100]


@pytest.mark.parametrize(
    ("join", "message"),
    [
        ({"table": "c", "local_col": "id", "foreign_col": "id"}, "no such table: plugin_tasks_c"),
        ({"table": "users", "local_col": "id", "foreign_col": "id"}, "no such table"),
        (
            {"type": "cross", "table": "owners", "local_col": "id", "foreign_col": "id"},
            'invalid join type "cross"',
        ),
        (
            {"type": "inner; drop", "table": "owners", "local_col": "a", "foreign_col": "b"},
            "invalid join type",
        ),
        ({"table": "owners", "foreign_col": "id"}, "missing 'local_col'"),
        ({"local_col": "id", "foreign_col": "id"}, "missing 'table'"),
        (
            {"table": "owners", "local_col": "items.id", "foreign_col": "c.id"},
            "not part of the query",
        ),
    ],
)
def test_joins_stay_inside_the_plugin(join: dict[str, object], message: str) -> None:
    with pytest.raises(QueryRejected, match=message):
        select({"joins": [join]})


def test_other_plugins_cannot_join_colliding_names() -> None:
    with pytest.raises(QueryRejected, match="does not belong"):
        PluginQueryBuilder(CATALOG, "a").select(
            "b_c", {"joins": [{"table": "b_c", "local_col": "id", "foreign_col": "id"}]}
        )


def test_map_having_requires_group_by() -> None:
    with pytest.raises(QueryRejected, match="having requires group_by"):
        select({"having": {"n": 1}})


def test_condition_path_ignores_where_or_joins_and_map_having() -> None:
    sql, params = select(
        {
            "where": ["n", ">", 1],
            "where_or": [{"n": 5}],
            "joins": [{"table": "owners", "local_col": "owner", "foreign_col": "id"}],
            "having": {"n": 1},
            "order_by": [{"column": "title"}],
            "offset": 3,
        }
    )
    assert sql == f'SELECT * FROM {T} WHERE "n" > ? ORDER BY "title" ASC LIMIT ? OFFSET ?'
    assert params == [1, 100, 3]


def test_aggregate_columns_select_the_condition_path_and_drop_a_map_where() -> None:
    sql, params = select({"columns": ["owner", COUNT], "where": {"n": 1}, "group_by": ["owner"]})
    assert sql == f'SELECT "owner", COUNT(*) AS "total" FROM {T} GROUP BY "owner" LIMIT ?'
    assert params == [100]


def test_condition_having_with_aggregates_and_aliases() -> None:
    sql, params = select(
        {
            "columns": ["owner", COUNT, {"__agg": "sum", "__arg": "n"}],
            "group_by": ["owner"],
            "having": [["OR", [[{"__agg": "COUNT", "__arg": "*"}, ">=", 2], ["total", "<", 9]]]],
            "order_by": "total",
            "desc": True,
        }
    )
    assert sql == (
        f'SELECT "owner", COUNT(*) AS "total", SUM("n") FROM {T} GROUP BY "owner" '
        'HAVING ((COUNT(*) >= ? OR "total" < ?)) ORDER BY "total" DESC LIMIT ?'
    )
    assert params == [2, 9, 100]


def test_condition_having_requires_group_by() -> None:
    with pytest.raises(QueryRejected, match="having requires group_by"):
        select({"where": [["n", "=", 1]], "having": [["n", "=", 1]]})


@pytest.mark.parametrize(
    ("aggregate", "message"),
    [
        ({"__agg": "GROUP_CONCAT", "__arg": "title"}, "unsupported function"),
        ({"__agg": "COUNT(*)); DROP TABLE x; --", "__arg": "*"}, "unsupported function"),
        ({"__agg": "SUM", "__arg": "*"}, "only allowed with COUNT"),
        ({"__agg": "SUM", "__arg": "items.n"}, "invalid aggregate"),
        ({"__agg": "MAX", "__arg": "secret"}, "no such column"),
        ({"__agg": "MAX", "__arg": ""}, "cannot be empty"),
        ({"__agg": "MIN", "__arg": "n", "__alias": 'x" FROM t; --'}, "invalid aggregate alias"),
        ({"__agg": "MIN", "__arg": "n", "__alias": "order"}, "SQL keyword"),
        ({"__agg": 5, "__arg": "n"}, "__agg must be a string"),
    ],
)
def test_hostile_aggregates(aggregate: dict[str, object], message: str) -> None:
    with pytest.raises(QueryRejected, match=message):
        select({"columns": [aggregate]})


def test_condition_path_order_by_limit_and_query_one_drops_it() -> None:
    many = [{"column": "n"}] * 9
    with pytest.raises(QueryRejected, match=r"too many order_by columns: 9 \(max 8\)"):
        select({"where": ["n", "=", 1], "order_by": many})
    sql, params = select({"where": ["n", "=", 1], "order_by": "title"}, one=True)
    assert sql == f'SELECT * FROM {T} WHERE "n" = ? LIMIT ?'
    assert params == [1, 1]


def test_map_path_query_one_keeps_order_by() -> None:
    sql, _ = select({"order_by": "title"}, one=True)
    assert sql == f'SELECT * FROM {T} ORDER BY "title" ASC LIMIT ?'


# -- count / exists -----------------------------------------------------------------------


def test_count_and_exists_honour_only_where() -> None:
    b = builder()
    assert b.count("items") == (f"SELECT COUNT(*) FROM {T}", [])
    assert b.count("items", {"where": {"n": 1}, "where_or": [{"n": 2}], "limit": 1}) == (
        f'SELECT COUNT(*) FROM {T} WHERE "n" = ?',
        [1],
    )
    assert b.exists("items", {"where": ["n", "IN", [1, 2]]}) == (
        f'SELECT 1 FROM {T} WHERE "n" IN (?, ?) LIMIT ?',
        [1, 2, 1],
    )


# -- insert / insert_many -----------------------------------------------------------------


def test_insert_adds_generated_columns_when_absent() -> None:
    sql, params = builder().insert("items", {"title": "x"})
    assert sql == (
        f'INSERT INTO {T} ("created_at", "id", "title", "updated_at") VALUES (?, ?, ?, ?)'
    )
    assert params == ["NOW", "id0", "x", "NOW"]
    _, params = builder().insert("items", {"id": "mine", "CREATED_AT": "then", "title": "x"})
    assert params == ["then", "mine", "x", "NOW"]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"secret": 1}, "no such column: secret"),
        ({'title"); DROP TABLE x; --': 1}, "invalid column"),
        ({"title": "a", "TITLE": "b"}, "duplicate column"),
        ({"title": ["a"]}, "cannot be used as a value"),
        (["a", "b"], "invalid column"),  # a Lua sequence has keys "1", "2"
    ],
)
def test_insert_refusals(values: object, message: str) -> None:
    with pytest.raises(QueryRejected, match=message):
        builder().insert("items", values)


def test_insert_needs_a_table() -> None:
    with pytest.raises(QueryRejected) as info:
        builder().insert("items", "title=x")
    assert info.value.raises


@pytest.mark.parametrize("columns", [1, 2, 7, 17, 20])
def test_batch_size_matches_the_original(columns: int) -> None:
    assert batch_size(columns + 3) == min(100, 999 // (columns + 3))


def test_insert_many_batches_rows_and_prepends_generated_columns() -> None:
    columns = [f"c{i}" for i in range(17)]  # 20 with id/created_at/updated_at -> 49 rows
    rows = [[r] * 17 for r in range(120)]
    statements = PluginQueryBuilder(
        SchemaCatalog.of(
            [TableSchema("plugin_tasks_w", ("id", "created_at", "updated_at", *columns), "tasks")]
        ),
        "tasks",
        ids=lambda: "ID",
        clock=lambda: "NOW",
    ).insert_many("w", columns, rows)
    assert [len(s.params) // 20 for s in statements] == [49, 49, 22]
    first = statements[0]
    assert first.sql.startswith(
        'INSERT INTO "plugin_tasks_w" ("id", "created_at", "updated_at", "c0"'
    )
    assert first.sql.count("?") == len(first.params) == 49 * 20
    assert first.params[:4] == ["ID", "NOW", "NOW", 0]


@pytest.mark.parametrize(
    ("columns", "rows", "message"),
    [
        ([], [[1]], "columns cannot be empty"),
        (["title"], [], "rows cannot be empty"),
        (["title"], [["a", "b"]], "row has 2 values, expected 1"),
        (["title"], ["a"], "each row must be a table"),
        (["title"], [["a"]] * 1001, r"too many rows: 1001 \(max 1000\)"),
        (["id", "title"], [["x", "a"]], 'duplicate column "id"'),
        (["title", "Title"], [["x", "a"]], "duplicate column"),
        (["secret"], [["x"]], "no such column"),
        (["title"], [[{"a": 1}]], "cannot be used as a value"),
    ],
)
def test_insert_many_refusals(columns: list[str], rows: list[object], message: str) -> None:
    with pytest.raises(QueryRejected, match=message) as info:
        builder().insert_many("items", columns, rows)
    assert not info.value.raises


# -- update / delete ----------------------------------------------------------------------


def test_update_map_path() -> None:
    sql, params = builder().update("items", {"set": {"title": "t"}, "where": {"id": "x"}})
    assert sql == f'UPDATE {T} SET "title" = ?, "updated_at" = ? WHERE "id" = ?'
    assert params == ["t", "NOW", "x"]


def test_update_condition_path_and_explicit_updated_at() -> None:
    sql, params = builder().update(
        "items", {"set": {"updated_at": "mine"}, "where": ["n", "BETWEEN", [1, 2]]}
    )
    assert sql == f'UPDATE {T} SET "updated_at" = ? WHERE "n" BETWEEN ? AND ?'
    assert params == ["mine", 1, 2]


@pytest.mark.parametrize(
    ("opts", "message", "raises"),
    [
        ({"where": {"id": 1}}, "update requires a 'set' table", True),
        ({"set": "x", "where": {"id": 1}}, "update requires a 'set' table", True),
        ({"set": {}, "where": {"id": 1}}, "update 'set' cannot be empty", True),
        ({"set": {"n": 1}}, "db.update requires non-empty where or where_or", True),
        ({"set": {"n": 1}, "where": {}}, "safety: prevents full-table update", True),
        ({"set": {"n": 1}, "where_or": [{}]}, "non-empty where or where_or", True),
        ({"set": {"n": 1}, "where": [["n", "IS NULL"]]}, "at least one value binding", False),
        ({"set": {"n": 1}, "where": {"n": {"__op": "bogus"}}}, "invalid condition operator", False),
        ({"set": {"secret": 1}, "where": {"id": 1}}, "no such column", False),
        ({"set": {"n": 1}, "where": {"c.secret": 1}}, "not part of the query", False),
    ],
)
def test_update_refusals(opts: dict[str, object], message: str, raises: bool) -> None:
    with pytest.raises(QueryRejected, match=message) as info:
        builder().update("items", opts)
    assert info.value.raises is raises


def test_delete_paths_and_refusals() -> None:
    assert builder().delete("items", {"where_or": [{"n": 1}, {"n": 2}]}) == (
        f'DELETE FROM {T} WHERE ("n" = ?) OR ("n" = ?)',
        [1, 2],
    )
    statement = builder().delete("items", {"where": [["id", "=", "x"], ["n", ">", 1]]})
    assert statement.sql.endswith('WHERE ("id" = ? AND "n" > ?)')
    with pytest.raises(QueryRejected, match="prevents full-table delete") as info:
        builder().delete("items", {})
    assert info.value.raises
    with pytest.raises(QueryRejected, match="delete requires a filter with at least one value"):
        builder().delete("items", {"where": [["NOT", ["id", "IS NULL"]]]})
    with pytest.raises(QueryRejected) as info:
        builder().delete("items", None)
    assert info.value.raises


# -- upsert -------------------------------------------------------------------------------


def test_upsert_updates_every_non_conflict_value_by_default() -> None:
    sql, params = builder().upsert(
        "items", {"values": {"title": "t", "n": 1}, "conflict_columns": ["title"]}
    )
    assert sql == (
        f'INSERT INTO {T} ("n", "title", "updated_at") VALUES (?, ?, ?) ON CONFLICT ("title") '
        'DO UPDATE SET "n" = excluded."n", "updated_at" = excluded."updated_at"'
    )
    assert params == [1, "t", "NOW"]


def test_upsert_explicit_update_and_do_nothing() -> None:
    sql, params = builder().upsert(
        "items",
        {"values": {"title": "t", "n": 1}, "conflict_columns": ["title"], "update": {"n": 5}},
    )
    assert sql.endswith('DO UPDATE SET "n" = ?, "updated_at" = ?')
    assert params == [1, "t", "NOW", 5, "NOW"]
    sql, _ = builder().upsert(
        "items", {"values": {"title": "t"}, "conflict_columns": ["title"], "do_nothing": True}
    )
    assert sql.endswith('ON CONFLICT ("title") DO NOTHING')


@pytest.mark.parametrize(
    ("opts", "message", "raises"),
    [
        ({"conflict_columns": ["title"]}, "upsert requires a 'values' table", True),
        ({"values": {}, "conflict_columns": ["title"]}, "'values' cannot be empty", True),
        ({"values": {"title": 1}}, "requires a 'conflict_columns' table", True),
        (
            {"values": {"title": 1}, "conflict_columns": []},
            "conflict_columns cannot be empty",
            True,
        ),
        ({"values": {"title": 1}, "conflict_columns": [1]}, "must be strings", True),
        ({"values": {"n": 1}, "conflict_columns": ["title"]}, "must be present in values", False),
        (
            {
                "values": {"title": 1},
                "conflict_columns": ["title"],
                "update": {"n": 1},
                "do_nothing": True,
            },
            "mutually exclusive",
            False,
        ),
        (
            {"values": {"title": 1}, "conflict_columns": ["title"], "update": {"title": 2}},
            "cannot be a conflict column",
            False,
        ),
        (
            {
                "values": {"title": 1, "updated_at": "x"},
                "conflict_columns": ["title", "updated_at"],
            },
            "no columns to update",
            False,
        ),
    ],
)
def test_upsert_refusals(opts: dict[str, object], message: str, raises: bool) -> None:
    with pytest.raises(QueryRejected, match=message) as info:
        builder().upsert("items", opts)
    assert info.value.raises is raises


# -- create_index -------------------------------------------------------------------------


def test_create_index() -> None:
    sql, params = builder().create_index("items", {"columns": ["Title", "n"], "unique": True})
    assert sql == (
        f'CREATE UNIQUE INDEX IF NOT EXISTS "idx_plugin_tasks_items_title_n" ON {T} ("title", "n")'
    )
    assert params == []
    with pytest.raises(QueryRejected, match="'columns' table is required"):
        builder().create_index("items", {})
    with pytest.raises(QueryRejected, match="columns cannot be empty"):
        builder().create_index("items", {"columns": [1]})
    with pytest.raises(QueryRejected, match="no such column"):
        builder().create_index("items", {"columns": ["secret"]})
    with pytest.raises(QueryRejected, match="invalid column"):
        builder().create_index("items", {"columns": ['n") ; DROP TABLE x; --']})
