"""Identifier rule, quoting, namespacing and catalog resolution of the query builder."""

from __future__ import annotations

import pytest

from modulacms.db.query import PluginQueryBuilder, SchemaCatalog, TableSchema, quote
from modulacms.db.query.identifiers import (
    Scope,
    check_identifier,
    check_plugin_name,
    full_table_name,
    identifier_problem,
)
from modulacms.errors import QueryRejected

ITEMS = TableSchema(
    "plugin_tasks_items", ("id", "title", "n", "kind", "created_at", "updated_at"), "tasks"
)
OWNERS = TableSchema("plugin_tasks_owners", ("id", "name", "created_at", "updated_at"), "tasks")
OTHER = TableSchema("plugin_a_b_c", ("id", "secret", "created_at", "updated_at"), "a_b")
USERS = TableSchema("users", ("user_id", "email", "hash"))
CATALOG = SchemaCatalog.of([ITEMS, OWNERS, OTHER, USERS])


def select(plugin: str, table: object, opts: object = None) -> str:
    return PluginQueryBuilder(CATALOG, plugin).select(table, opts).sql


@pytest.mark.parametrize(
    "name",
    [
        "title",
        "_private",
        "a1",
        "x" * 64,
        "ünïcödé",
        "名前",
        "Ωmega_2",
        "selected",  # contains a keyword, is not one
        "orders",
    ],
)
def test_acceptable_identifiers(name: str) -> None:
    assert identifier_problem(name, "column") is None


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("", "cannot be empty"),
        ("x" * 65, "too long"),
        ("é" * 33, "too long"),  # 66 bytes: the limit is in bytes, as in the original
        ("1abc", "invalid column name format"),
        ("a-b", "invalid column name format"),
        ("a b", "invalid column name format"),
        ('a"b', "invalid column name format"),
        ("a'b", "invalid column name format"),
        ("a;b", "invalid column name format"),
        ("a--", "invalid column name format"),
        ("a/*", "invalid column name format"),
        ("t.col", "invalid column name format"),
        ("a\x00", "invalid column name format"),
        ("a\u200b", "invalid column name format"),  # zero-width space
        ("e\u0301", "invalid column name format"),  # combining accent is not a letter
        ("a\u00b2", "invalid column name format"),  # superscript two is a digit, not decimal
        ("a\n", "invalid column name format"),
        ("order", "SQL keyword"),
        ("ORDER", "SQL keyword"),
        ("Index", "SQL keyword"),
        ("from", "SQL keyword"),
        ("on", "SQL keyword"),
        ("as", "SQL keyword"),
    ],
)
def test_refused_identifiers(name: str, problem: str) -> None:
    found = identifier_problem(name, "column")
    assert found is not None and problem in found


def test_check_identifier_names_the_role() -> None:
    with pytest.raises(QueryRejected, match=r'invalid order_by column "title DESC": invalid'):
        check_identifier("title DESC", "column", role="order_by column")


@pytest.mark.parametrize(
    ("name", "quoted"),
    [("title", '"title"'), ('we"ird', '"we""ird"'), ('""', '""""""')],
)
def test_quote_doubles_embedded_quotes(name: str, quoted: str) -> None:
    assert quote(name) == quoted


@pytest.mark.parametrize("plugin", ["tasks", "a_b", "x1", "ñandú"])
def test_plugin_names_follow_the_manifest_rule(plugin: str) -> None:
    assert check_plugin_name(plugin) == plugin


@pytest.mark.parametrize("plugin", ["", "Tasks", "a_", "a-b", "a b", "x" * 33, 'a"', "a.b"])
def test_bad_plugin_names_are_refused(plugin: str) -> None:
    with pytest.raises(QueryRejected, match="invalid plugin name") as info:
        check_plugin_name(plugin)
    assert info.value.raises


def test_full_table_name_prefixes_and_validates() -> None:
    assert full_table_name("tasks", "items") == "plugin_tasks_items"
    with pytest.raises(QueryRejected, match=r'invalid table name "it ems"'):
        full_table_name("tasks", "it ems")
    with pytest.raises(QueryRejected, match="too long"):
        full_table_name("tasks", "x" * 60)


@pytest.mark.parametrize(
    "table",
    [
        'items"; DROP TABLE users; --',
        "items;",
        "items --",
        "items/**/",
        "items.title",
        "../owners",
        "it\u200bems",
        "items\x00",
        "",
        "x" * 60,
    ],
)
def test_hostile_table_names_are_refused(table: str) -> None:
    with pytest.raises(QueryRejected, match="invalid table name") as info:
        select("tasks", table)
    assert not info.value.raises


@pytest.mark.parametrize(
    "table",
    ["users", "ıtems", "ｉtems", "plugin_a_b_c", "plugin_tasks_items", "Items\u0130"],
)
def test_unknown_tables_are_not_found(table: str) -> None:
    with pytest.raises(QueryRejected, match="no such table"):
        select("tasks", table)


def test_ascii_case_reaches_the_same_table_as_sqlite_would() -> None:
    assert select("tasks", "ITEMS").startswith('SELECT * FROM "plugin_tasks_items"')


def test_a_plugin_cannot_reach_a_colliding_name_owned_by_another() -> None:
    # plugin "a" + table "b_c" spells the same full name as plugin "a_b" + table "c".
    with pytest.raises(QueryRejected, match="does not belong to plugin"):
        select("a", "b_c")
    assert select("a_b", "c").startswith('SELECT * FROM "plugin_a_b_c"')


def test_non_string_table_name_raises() -> None:
    with pytest.raises(QueryRejected) as info:
        select("tasks", 42)
    assert info.value.raises


@pytest.mark.parametrize(
    "column",
    [
        'title"; DROP TABLE users; --',
        'title" OR "1"="1',
        "title)",
        "title,n",
        "1title",
        "order",
        "*",
        "title\u200b",
        "tit\u0131e",  # dotless i: a letter, but not this column
        "\u212aind",  # the Kelvin sign lower-cases to "k" in Python, not in SQLite
        "ｔitle",
        "secret",  # another plugin's column
        "hash",
    ],
)
def test_hostile_columns_are_refused(column: str) -> None:
    scope = Scope(ITEMS, plugin="tasks")
    with pytest.raises(QueryRejected):
        scope.column(column, qualified=True)


def test_columns_resolve_to_the_catalog_spelling() -> None:
    scope = Scope(ITEMS, plugin="tasks")
    assert scope.column("TITLE") == '"title"'
    assert scope.column("Kind") == '"kind"'


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("owners.name", "not part of the query"),
        ("c.secret", "not part of the query"),
        ("items.nope", "no such column"),
        ("items.order", "SQL keyword"),
        ("it ems.title", "invalid qualified name"),
        ("items.title.x", "invalid column name format"),
    ],
)
def test_qualified_names_stay_inside_the_query(name: str, message: str) -> None:
    scope = Scope(ITEMS, plugin="tasks")
    with pytest.raises(QueryRejected, match=message):
        scope.column(name, qualified=True)


def test_qualified_names_render_both_parts_quoted() -> None:
    scope = Scope(ITEMS, plugin="tasks", joined=[OWNERS])
    assert scope.column("owners.name", qualified=True) == '"plugin_tasks_owners"."name"'


def test_qualified_names_are_refused_where_only_bare_names_are_allowed() -> None:
    with pytest.raises(QueryRejected, match="invalid column name format"):
        Scope(ITEMS, plugin="tasks").column("items.title")


def test_blocked_columns_cannot_be_named() -> None:
    with pytest.raises(QueryRejected, match="blocked"):
        Scope(USERS, blocked={"hash"}).column("HASH")


def test_catalog_lookups_fold_ascii_only() -> None:
    assert CATALOG.get("PLUGIN_TASKS_ITEMS") is ITEMS
    assert CATALOG.get("plugin_tasks_\u0130tems") is None
    assert CATALOG.exists("users")
    assert [t.name for t in CATALOG.owned_by("a_b")] == ["plugin_a_b_c"]
