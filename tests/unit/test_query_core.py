"""Read statements of the ``core`` module: the three gates and the narrowed options."""

from __future__ import annotations

import pytest

from modulacms.db.query import CoreQueryBuilder, SchemaCatalog, TableSchema, check_core_access
from modulacms.errors import QueryRejected

USERS = TableSchema("users", ("user_id", "email", "name", "hash", "role_id"))
CONTENT = TableSchema("content_data", ("content_data_id", "status", "route_id"))
SESSIONS = TableSchema("sessions", ("session_id", "token_hash"))
PLUGIN = TableSchema("plugin_p_items", ("id",), "p")
CATALOG = SchemaCatalog.of([USERS, CONTENT, SESSIONS, PLUGIN])
ACCESS = {"users": ["read"], "content_data": ["read", "write"], "sessions": ["read"]}


def core(access: object = ACCESS) -> CoreQueryBuilder:
    return CoreQueryBuilder(CATALOG, "p", access)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("table", "access", "op", "message"),
    [
        ("sessions", ACCESS, "read", 'core.read: table "sessions" is not accessible to plugins'),
        ("tokens", ACCESS, "read", "is not accessible to plugins"),
        ("plugin_p_items", ACCESS, "read", "is not accessible to plugins"),
        ("users", ACCESS, "write", 'core.write: table "users" does not allow write access'),
        ("media", ACCESS, "read", 'core.read: plugin "p" has no approved access to table "media"'),
        ("users", None, "read", "has no approved access"),
        ("content_data", {"content_data": ["read"]}, "write", 'is not approved for "write"'),
        ("users", {"users": "readonly"}, "read", 'is not approved for "read"'),
    ],
)
def test_gates(table: str, access: object, op: str, message: str) -> None:
    with pytest.raises(QueryRejected, match=message) as info:
        check_core_access("p", access, table, op)  # type: ignore[arg-type]
    assert not info.value.raises


def test_allowed_access_passes_every_gate() -> None:
    assert check_core_access("p", ACCESS, "content_data", "write") == "content_data"


def test_select_star_lists_every_column_but_the_hash() -> None:
    sql, params = core().select("users")
    assert sql == 'SELECT "user_id", "email", "name", "role_id" FROM "users" LIMIT ?'
    assert params == [100]


@pytest.mark.parametrize(
    "opts",
    [
        {"columns": ["email", "hash"]},
        {"columns": ["HASH"]},
        {"where": {"hash": "x"}},
        {"where": ["hash", "LIKE", "$argon%"]},
        {"where_or": [{"hash": "x"}]},
        {"order_by": "hash"},
        {"order_by": [{"column": "hash"}]},
    ],
)
def test_the_hash_can_never_be_named(opts: dict[str, object]) -> None:
    with pytest.raises(QueryRejected, match='column "(hash|HASH)" is blocked'):
        core().select("users", opts)


def test_count_and_exists_cannot_probe_the_hash_either() -> None:
    with pytest.raises(QueryRejected, match="blocked"):
        core().count("users", {"where": {"hash": "x"}})
    with pytest.raises(QueryRejected, match="blocked"):
        core().exists("users", {"where": ["hash", "=", "x"]})


def test_condition_where_is_honoured_by_query_unlike_the_original() -> None:
    sql, params = core().select("content_data", {"where": ["status", "=", "published"]})
    assert sql == (
        'SELECT "content_data_id", "status", "route_id" FROM "content_data" '
        'WHERE "status" = ? LIMIT ?'
    )
    assert params == ["published", 100]


def test_condition_where_and_where_or_must_both_hold() -> None:
    sql, params = core().select(
        "content_data",
        {"where": ["status", "=", "draft"], "where_or": [{"route_id": "a"}, {"route_id": "b"}]},
        one=True,
    )
    assert 'WHERE ("status" = ?) AND (("route_id" = ?) OR ("route_id" = ?)) LIMIT ?' in sql
    assert params == ["draft", "a", "b", 1]


def test_map_where_order_limit_offset() -> None:
    sql, params = core().select(
        "users",
        {
            "columns": ["email"],
            "where": {"role_id": "r"},
            "order_by": "email",
            "desc": True,
            "limit": 20_000,
            "offset": 10,
        },
    )
    assert sql == (
        'SELECT "email" FROM "users" WHERE "role_id" = ? ORDER BY "email" DESC LIMIT ? OFFSET ?'
    )
    assert params == ["r", 10_000, 10]


@pytest.mark.parametrize(
    ("opts", "message"),
    [
        (
            {"joins": [{"table": "roles", "local_col": "role_id", "foreign_col": "role_id"}]},
            "joins are not supported",
        ),
        ({"group_by": ["role_id"]}, "group_by is not supported"),
        ({"distinct": True}, "distinct is not supported"),
        ({"columns": [{"__agg": "COUNT", "__arg": "*"}]}, "aggregates are not supported"),
        ({"columns": ["users.email"]}, "invalid column"),
        ({"where": {"users.email": "x"}}, "invalid where column"),
        ({"columns": ["nope"]}, "no such column: nope"),
    ],
)
def test_unsupported_options_are_refused(opts: dict[str, object], message: str) -> None:
    with pytest.raises(QueryRejected, match=message):
        core().select("users", opts)


def test_count_and_exists() -> None:
    assert core().count("content_data", {"where": {"status": "draft"}}) == (
        'SELECT COUNT(*) FROM "content_data" WHERE "status" = ?',
        ["draft"],
    )
    assert core().exists("content_data") == ('SELECT 1 FROM "content_data" LIMIT ?', [1])


def test_a_whitelisted_table_missing_from_the_catalog_is_not_found() -> None:
    with pytest.raises(QueryRejected, match="no such table: media"):
        core({"media": ["read"]}).select("media")
