"""``define_table`` validation and DDL rendering (every refusal raises)."""

from __future__ import annotations

import pytest

from modulacms.db.query import SchemaCatalog, TableSchema, parse_table_definition
from modulacms.errors import QueryRejected

PARENT = TableSchema("plugin_shop_orders", ("id", "total", "created_at", "updated_at"), "shop")
FOREIGN = TableSchema("plugin_shop_x_items", ("id", "created_at", "updated_at"), "shop_x")
CATALOG = SchemaCatalog.of([PARENT, FOREIGN], existing=["users", "plugin_shop_legacy"])


def define(definition: object, name: object = "lines", plugin: str = "shop") -> list[str]:
    table = parse_table_definition(CATALOG, plugin, name, definition)
    return [s.sql for s in table.statements()]


def columns(*cols: object, **extra: object) -> dict[str, object]:
    return {"columns": list(cols), **extra}


def test_full_definition_renders_types_constraints_defaults_indexes_and_fks() -> None:
    create, index = define(
        columns(
            {"name": "order_id", "type": "text", "not_null": True},
            {"name": "qty", "type": "integer", "default": 1},
            {"name": "price", "type": "real", "default": 2.5},
            {"name": "photo", "type": "blob"},
            {"name": "gift", "type": "boolean", "default": True},
            {"name": "at", "type": "timestamp"},
            {"name": "meta", "type": "json", "default": "{}"},
            {"name": "sku", "type": "text", "unique": True, "default": "it's"},
            indexes=[{"columns": ["order_id", "sku"], "unique": True}],
            foreign_keys=[
                {
                    "column": "order_id",
                    "ref_table": "plugin_shop_orders",
                    "ref_column": "id",
                    "on_delete": "cascade",
                }
            ],
        )
    )
    assert create == (
        'CREATE TABLE IF NOT EXISTS "plugin_shop_lines" (\n'
        '    "id" TEXT NOT NULL PRIMARY KEY,\n'
        '    "order_id" TEXT NOT NULL,\n'
        "    \"qty\" INTEGER DEFAULT '1',\n"
        "    \"price\" REAL DEFAULT '2.5',\n"
        '    "photo" BLOB,\n'
        '    "gift" INTEGER,\n'
        '    "at" TEXT,\n'
        "    \"meta\" TEXT DEFAULT '{}',\n"
        "    \"sku\" TEXT UNIQUE DEFAULT 'it''s',\n"
        '    "created_at" TEXT NOT NULL,\n'
        '    "updated_at" TEXT NOT NULL,\n'
        '    FOREIGN KEY ("order_id") REFERENCES "plugin_shop_orders" ("id") ON DELETE CASCADE\n'
        ")"
    )
    assert index == (
        'CREATE UNIQUE INDEX IF NOT EXISTS "idx_plugin_shop_lines_order_id_sku" '
        'ON "plugin_shop_lines" ("order_id", "sku")'
    )


def test_hostile_default_is_a_quoted_literal() -> None:
    (create,) = define(
        columns({"name": "t", "type": "text", "default": "x'); DROP TABLE users; --"})
    )
    assert "DEFAULT 'x''); DROP TABLE users; --'" in create


def test_injected_columns_can_be_indexed_and_self_references_work() -> None:
    _, index = define(
        columns(
            {"name": "parent", "type": "text"},
            indexes=[{"columns": ["created_at"]}],
            foreign_keys=[
                {"column": "parent", "ref_table": "plugin_shop_lines", "ref_column": "id"}
            ],
        )
    )
    assert index.endswith('("created_at")')


def test_forward_reference_to_an_unambiguous_own_name_is_allowed() -> None:
    (create,) = define(
        columns(
            {"name": "cat", "type": "text"},
            foreign_keys=[{"column": "cat", "ref_table": "plugin_shop_cats", "ref_column": "id"}],
        )
    )
    assert 'REFERENCES "plugin_shop_cats" ("id")' in create


@pytest.mark.parametrize(
    ("definition", "name", "message"),
    [
        (columns({"name": "a", "type": "text"}), "", "table name cannot be empty"),
        (columns({"name": "a", "type": "text"}), "bad name", 'invalid table name "bad name"'),
        (columns({"name": "a", "type": "text"}), 'x"; DROP TABLE users; --', "invalid table name"),
        (columns({"name": "a", "type": "text"}), 5, "table name must be a string"),
        ({}, "lines", "definition must include a 'columns' table"),
        ("columns", "lines", "definition must include a 'columns' table"),
        (columns(), "lines", "columns cannot be empty"),
        (columns("title"), "lines", "each column must be a table, got string"),
        (columns({"type": "text"}), "lines", "column missing required 'name' field"),
        (
            columns({"name": "id", "type": "text"}),
            "lines",
            'column "id" is auto-injected and cannot be defined manually',
        ),
        (columns({"name": "updated_at", "type": "text"}), "lines", "auto-injected"),
        (columns({"name": "order", "type": "text"}), "lines", "SQL keyword"),
        (
            columns({"name": 'a" TEXT); DROP TABLE users; --', "type": "text"}),
            "lines",
            "invalid column name",
        ),
        (columns({"name": "a"}), "lines", "missing required 'type' field"),
        (columns({"name": "a", "type": "TEXT"}), "lines", 'invalid column type "TEXT"'),
        (
            columns({"name": "a", "type": "text) ; DROP TABLE users"}),
            "lines",
            "invalid column type",
        ),
        (
            columns({"name": "a", "type": "text"}, {"name": "A", "type": "text"}),
            "lines",
            'duplicate column name "A"',
        ),
        (
            columns(*({"name": f"c{i}", "type": "text"} for i in range(62))),
            "lines",
            r"too many columns: 65 \(max 64\)",
        ),
        (columns({"name": "a", "type": "text", "default": "x\x00"}), "lines", "NUL"),
        (
            columns({"name": "a", "type": "text"}, indexes=["a"]),
            "lines",
            "each index must be a table",
        ),
        (
            columns({"name": "a", "type": "text"}, indexes=[{}]),
            "lines",
            "index missing required 'columns'",
        ),
        (
            columns({"name": "a", "type": "text"}, indexes=[{"columns": []}]),
            "lines",
            "index columns cannot be empty",
        ),
        (
            columns({"name": "a", "type": "text"}, indexes=[{"columns": [1]}]),
            "lines",
            "index column name must be a string, got number",
        ),
        (
            columns({"name": "a", "type": "text"}, indexes=[{"columns": ["b"]}]),
            "lines",
            'index column "b" not found',
        ),
        (
            columns({"name": "a", "type": "text"}, foreign_keys=[5]),
            "lines",
            "each foreign_key must be a table",
        ),
        (
            columns(
                {"name": "a", "type": "text"},
                foreign_keys=[{"ref_table": "plugin_shop_orders", "ref_column": "id"}],
            ),
            "lines",
            "foreign_key missing required 'column'",
        ),
        (
            columns(
                {"name": "a", "type": "text"},
                foreign_keys=[{"column": "a", "ref_table": "users", "ref_column": "user_id"}],
            ),
            "lines",
            'must start with plugin prefix "plugin_shop_" \\(namespace isolation\\)',
        ),
        (
            columns(
                {"name": "a", "type": "text"},
                foreign_keys=[
                    {"column": "a", "ref_table": "plugin_shop_x_items", "ref_column": "id"}
                ],
            ),
            "lines",
            "is not a table of plugin",
        ),
        (
            columns(
                {"name": "a", "type": "text"},
                foreign_keys=[{"column": "a", "ref_table": "plugin_shop_y_z", "ref_column": "id"}],
            ),
            "lines",
            "must be defined before it is referenced",
        ),
        (
            columns(
                {"name": "a", "type": "text"},
                foreign_keys=[
                    {"column": "a", "ref_table": "plugin_shop_orders", "ref_column": "nope"}
                ],
            ),
            "lines",
            'ref_column "nope" not found',
        ),
        (
            columns(
                {"name": "a", "type": "text"},
                foreign_keys=[
                    {"column": "b", "ref_table": "plugin_shop_orders", "ref_column": "id"}
                ],
            ),
            "lines",
            'FK column "b" not found',
        ),
        (
            columns(
                {"name": "a", "type": "text"},
                foreign_keys=[
                    {
                        "column": "a",
                        "ref_table": "plugin_shop_orders",
                        "ref_column": "id",
                        "on_delete": "DROP TABLE users",
                    }
                ],
            ),
            "lines",
            "invalid FK ON DELETE action",
        ),
        (columns({"name": "a", "type": "text"}), "legacy", "already exists and is not registered"),
        (columns({"name": "a", "type": "text"}), "x_items", 'belongs to plugin "shop_x"'),
    ],
)
def test_refusals_raise(definition: object, name: object, message: str) -> None:
    with pytest.raises(QueryRejected, match=message) as info:
        define(definition, name)
    assert info.value.raises


def test_redefining_an_owned_table_is_allowed() -> None:
    assert define(columns({"name": "total", "type": "real"}), "orders")[0].startswith(
        'CREATE TABLE IF NOT EXISTS "plugin_shop_orders"'
    )


def test_numbers_render_like_lua_tostring_and_booleans_are_ignored() -> None:
    (create,) = define(
        columns(
            {"name": "a", "type": "integer", "default": 5.0},
            {"name": "b", "type": "integer", "default": False},
            {"name": "c", "type": "text", "default": ""},
        )
    )
    assert "\"a\" INTEGER DEFAULT '5'" in create
    assert '"b" INTEGER,' in create
    assert '"c" TEXT,' in create


def test_drift_reports_missing_and_extra_columns() -> None:
    table = parse_table_definition(
        CATALOG,
        "shop",
        "orders",
        columns({"name": "total", "type": "real"}, {"name": "note", "type": "text"}),
    )
    drift = table.drift(["id", "total", "created_at", "updated_at", "legacy"])
    assert [(d.kind, d.column) for d in drift] == [("missing", "note"), ("extra", "legacy")]
    assert {d.table for d in drift} == {"plugin_shop_orders"}
