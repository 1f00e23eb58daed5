"""PluginStore against real SQLite files: every db.* operation, isolation, atomicity."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from modulacms.db.connection import Database
from modulacms.db.plugin_store import PluginStore
from modulacms.errors import QueryRejected

TASKS = {
    "columns": [
        {"name": "title", "type": "text", "not_null": True},
        {"name": "n", "type": "integer", "default": 0},
        {"name": "score", "type": "real"},
        {"name": "done", "type": "boolean"},
        {"name": "data", "type": "blob"},
        {"name": "meta", "type": "json"},
        {"name": "owner", "type": "text"},
    ],
    "indexes": [{"columns": ["title"], "unique": True}],
}
OWNERS = {"columns": [{"name": "name", "type": "text"}]}


@pytest.fixture
def store(db: Database) -> PluginStore:
    store = PluginStore(db)
    assert store.define_table("todo", "tasks", TASKS) == []
    assert store.define_table("todo", "owners", OWNERS) == []
    return store


def titles(store: PluginStore, opts: object = None) -> list[object]:
    return [row["title"] for row in store.query("todo", "tasks", opts)]


def test_define_table_creates_registers_and_is_idempotent(db: Database, store: PluginStore) -> None:
    assert db.execute("SELECT label, plugin_name, short_name FROM tables ORDER BY label") == [
        ("plugin_todo_owners", "todo", "owners"),
        ("plugin_todo_tasks", "todo", "tasks"),
    ]
    names = [r[0] for r in db.execute("SELECT name FROM pragma_table_info('plugin_todo_tasks')")]
    assert names[0] == "id" and names[-2:] == ["created_at", "updated_at"]
    assert db.scalar("SELECT 1 FROM sqlite_master WHERE name = 'idx_plugin_todo_tasks_title'") == 1
    assert store.define_table("todo", "tasks", TASKS) == []
    assert db.scalar("SELECT COUNT(*) FROM tables") == 2


def test_round_trip_of_every_read_and_write(store: PluginStore) -> None:
    store.insert("todo", "tasks", {"title": "b", "n": 2.0, "score": 1.5, "done": True})
    store.insert("todo", "tasks", {"title": "a", "n": 1.0})
    store.insert("todo", "tasks", {"id": "fixed", "title": "c", "n": 3.0})
    row = store.query_one("todo", "tasks", {"where": {"id": "fixed"}})
    assert row is not None and row["title"] == "c" and row["n"] == 3
    assert "score" not in row and "owner" not in row  # NULL columns are absent
    assert len(str(row["created_at"])) == len("2026-01-01T00:00:00Z")
    assert store.query_one("todo", "tasks", {"where": {"id": "missing"}}) is None
    assert titles(store, {"order_by": "title"}) == ["a", "b", "c"]
    assert titles(store, {"order_by": "n", "desc": True, "limit": 2, "offset": 1}) == ["b", "a"]
    assert store.count("todo", "tasks") == 3
    assert store.count("todo", "tasks", {"where": ["n", ">=", 2]}) == 2
    assert store.exists("todo", "tasks", {"where": {"title": {"__op": "like", "__val": "b%"}}})
    assert not store.exists("todo", "tasks", {"where": {"title": "zzz"}})
    changed = store.update(
        "todo", "tasks", {"set": {"done": False}, "where_or": [{"n": 1}, {"n": 3}]}
    )
    assert changed == 2
    assert store.count("todo", "tasks", {"where": {"done": 0}}) == 2
    assert store.delete("todo", "tasks", {"where": ["title", "IN", ["a", "b"]]}) == 2
    assert titles(store) == ["c"]


def test_defaults_and_booleans_round_trip(store: PluginStore) -> None:
    store.insert("todo", "tasks", {"title": "x", "done": True})
    row = store.query_one("todo", "tasks")
    assert row is not None and row["n"] == 0 and row["done"] == 1


@pytest.mark.parametrize(
    "value",
    [
        "'; DROP TABLE plugin_todo_tasks; --",
        'he said "hi"',
        "null\x00byte",
        "emoji 🚀 and ünïcode",
        "?",
        "' OR '1'='1",
    ],
)
def test_hostile_values_are_stored_verbatim(store: PluginStore, value: str) -> None:
    store.insert("todo", "tasks", {"title": value, "data": value.encode(), "meta": value})
    row = store.query_one("todo", "tasks", {"where": {"title": value}})
    assert row is not None
    assert (row["title"], row["data"], row["meta"]) == (value, value.encode(), value)
    assert store.count("todo", "tasks") == 1


def test_aggregates_group_by_and_having(store: PluginStore) -> None:
    store.insert_many(
        "todo", "tasks", ["title", "owner", "n"], [["a", "x", 1], ["b", "x", 2], ["c", "y", 5]]
    )
    rows = store.query(
        "todo",
        "tasks",
        {
            "columns": [
                "owner",
                {"__agg": "COUNT", "__arg": "*", "__alias": "total"},
                {"__agg": "SUM", "__arg": "n", "__alias": "sum_n"},
            ],
            "group_by": ["owner"],
            "having": [{"__agg": "COUNT", "__arg": "*"}, ">", 1],
        },
    )
    assert rows == [{"owner": "x", "total": 2, "sum_n": 3}]


def test_joins_over_own_tables(store: PluginStore) -> None:
    store.insert("todo", "owners", {"id": "o1", "name": "ann"})
    store.insert("todo", "tasks", {"title": "t", "owner": "o1"})
    store.insert("todo", "tasks", {"title": "u"})
    rows = store.query(
        "todo",
        "tasks",
        {
            "columns": ["tasks.title", "owners.name"],
            "joins": [
                {
                    "type": "left",
                    "table": "owners",
                    "local_col": "tasks.owner",
                    "foreign_col": "owners.id",
                }
            ],
            "order_by": [{"column": "tasks.title"}],
        },
    )
    assert rows == [{"title": "t", "name": "ann"}, {"title": "u"}]


def test_upsert_update_explicit_update_and_do_nothing(store: PluginStore) -> None:
    base = {"id": "1", "title": "t", "n": 1, "created_at": "c"}
    store.upsert("todo", "tasks", {"values": base, "conflict_columns": ["title"]})
    store.upsert("todo", "tasks", {"values": {**base, "n": 2}, "conflict_columns": ["title"]})
    assert store.query_one("todo", "tasks", {"where": {"title": "t"}})["n"] == 2  # type: ignore[index]
    store.upsert(
        "todo",
        "tasks",
        {"values": {**base, "n": 9}, "conflict_columns": ["title"], "update": {"score": 4.5}},
    )
    row = store.query_one("todo", "tasks")
    assert row is not None and (row["n"], row["score"]) == (2, 4.5)
    store.upsert(
        "todo",
        "tasks",
        {"values": {**base, "n": 7}, "conflict_columns": ["title"], "do_nothing": True},
    )
    assert store.query_one("todo", "tasks")["n"] == 2  # type: ignore[index]
    assert store.count("todo", "tasks") == 1


def test_upsert_on_a_column_without_unique_constraint_is_a_clear_error(store: PluginStore) -> None:
    with pytest.raises(QueryRejected, match="ON CONFLICT clause does not match") as info:
        store.upsert(
            "todo",
            "tasks",
            {
                "values": {"id": "1", "title": "t", "n": 1, "created_at": "c"},
                "conflict_columns": ["n"],
            },
        )
    assert not info.value.raises


def test_insert_many_batches_inside_one_transaction(store: PluginStore) -> None:
    charged: list[int] = []
    columns = ["title", "n", "score", "done", "data", "meta", "owner"]  # 10 with generated
    rows = [[f"t{i}", i, 0.5, True, b"x", "{}", "o"] for i in range(250)]
    assert store.insert_many("todo", "tasks", columns, rows, charge=charged.append) == 250
    assert charged == [3]  # 999 // 10 = 99 rows per statement
    assert store.count("todo", "tasks") == 250
    ids = {row["id"] for row in store.query("todo", "tasks", {"limit": 1000})}
    assert len(ids) == 250


def test_insert_many_is_atomic(store: PluginStore) -> None:
    rows = [[f"t{i}"] for i in range(150)] + [["t0"]]  # the duplicate sits in the last batch
    with pytest.raises(QueryRejected, match="UNIQUE constraint failed"):
        store.insert_many("todo", "tasks", ["title"], rows)
    assert store.count("todo", "tasks") == 0


def test_insert_many_charge_can_refuse_before_anything_runs(store: PluginStore) -> None:
    def refuse(batches: int) -> None:
        raise QueryRejected(f"insert_many: would consume {batches} operations")

    with pytest.raises(QueryRejected, match="would consume 2 operations"):
        store.insert_many(
            "todo", "tasks", ["title"], [[f"t{i}"] for i in range(150)], charge=refuse
        )
    assert store.count("todo", "tasks") == 0


def test_constraint_violations_become_query_rejected(db: Database, store: PluginStore) -> None:
    store.insert("todo", "tasks", {"title": "a"})
    with pytest.raises(QueryRejected, match="UNIQUE constraint failed: plugin_todo_tasks.title"):
        store.insert("todo", "tasks", {"title": "a"})
    with pytest.raises(QueryRejected, match="NOT NULL constraint failed"):
        store.insert("todo", "tasks", {"n": 1})
    store.define_table(
        "todo",
        "notes",
        {
            "columns": [{"name": "task", "type": "text"}],
            "foreign_keys": [
                {
                    "column": "task",
                    "ref_table": "plugin_todo_tasks",
                    "ref_column": "id",
                    "on_delete": "cascade",
                }
            ],
        },
    )
    with pytest.raises(QueryRejected, match="FOREIGN KEY constraint failed"):
        store.insert("todo", "notes", {"task": "missing"})
    task_id = store.query_one("todo", "tasks")["id"]  # type: ignore[index]
    store.insert("todo", "notes", {"task": task_id})
    store.delete("todo", "tasks", {"where": {"id": task_id}})
    assert store.count("todo", "notes") == 0  # ON DELETE CASCADE


def test_update_and_delete_refuse_full_table_writes(store: PluginStore) -> None:
    store.insert("todo", "tasks", {"title": "a"})
    calls: list[Callable[[], object]] = [
        lambda: store.update("todo", "tasks", {"set": {"n": 1}}),
        lambda: store.update("todo", "tasks", {"set": {"n": 1}, "where_or": [{}]}),
        lambda: store.delete("todo", "tasks", {"where": {}}),
    ]
    for call in calls:
        with pytest.raises(QueryRejected, match="non-empty where") as info:
            call()
        assert info.value.raises
    assert store.count("todo", "tasks", {"where": {"n": 0}}) == 1


# -- namespace isolation ------------------------------------------------------------------


def test_colliding_names_between_two_plugins(db: Database) -> None:
    store = PluginStore(db)
    store.define_table("a_b", "c", {"columns": [{"name": "secret", "type": "text"}]})
    store.insert("a_b", "c", {"secret": "s"})
    with pytest.raises(QueryRejected, match='belongs to plugin "a_b"') as info:
        store.define_table("a", "b_c", {"columns": [{"name": "x", "type": "text"}]})
    assert info.value.raises
    calls: list[Callable[[], object]] = [
        lambda: store.query("a", "b_c"),
        lambda: store.insert("a", "b_c", {"secret": "mine"}),
        lambda: store.delete("a", "b_c", {"where": {"secret": "s"}}),
    ]
    for call in calls:
        with pytest.raises(QueryRejected, match="does not belong to plugin"):
            call()
    assert store.query("a_b", "c")[0]["secret"] == "s"


def test_plugins_see_only_their_own_tables(store: PluginStore) -> None:
    store.define_table("spy", "t", {"columns": [{"name": "x", "type": "text"}]})
    with pytest.raises(QueryRejected, match="no such table: plugin_spy_tasks"):
        store.query("spy", "tasks")
    with pytest.raises(QueryRejected, match="no such table: plugin_spy_users"):
        store.query("spy", "users")
    with pytest.raises(QueryRejected, match="no such table"):
        store.query(
            "spy", "t", {"joins": [{"table": "todo_tasks", "local_col": "id", "foreign_col": "id"}]}
        )
    with pytest.raises(QueryRejected, match="must start with plugin prefix"):
        store.define_table(
            "spy",
            "u",
            {
                "columns": [{"name": "t", "type": "text"}],
                "foreign_keys": [
                    {"column": "t", "ref_table": "plugin_todo_tasks", "ref_column": "id"}
                ],
            },
        )


def test_an_unregistered_table_is_never_adopted(db: Database) -> None:
    with db.transaction() as conn:
        conn.execute("CREATE TABLE plugin_x_legacy (id TEXT)")
    store = PluginStore(db)
    with pytest.raises(QueryRejected, match="not registered"):
        store.define_table("x", "legacy", {"columns": [{"name": "a", "type": "text"}]})
    with pytest.raises(QueryRejected, match="no such table"):
        store.query("x", "legacy")


def test_the_registry_keeps_ownership_of_a_dropped_table(db: Database) -> None:
    store = PluginStore(db)
    store.define_table("a_b", "c", {"columns": [{"name": "x", "type": "text"}]})
    with db.transaction() as conn:
        conn.execute('DROP TABLE "plugin_a_b_c"')
    with pytest.raises(QueryRejected, match='registered to plugin "a_b"') as info:
        store.define_table("a", "b_c", {"columns": [{"name": "x", "type": "text"}]})
    assert info.value.raises
    store.define_table("a_b", "c", {"columns": [{"name": "x", "type": "text"}]})
    assert db.scalar("SELECT COUNT(*) FROM tables WHERE label = 'plugin_a_b_c'") == 1
    store.insert("a_b", "c", {"x": "back"})


# -- transactions and the catalog ---------------------------------------------------------


def test_transaction_rolls_back_every_write(store: PluginStore) -> None:
    with pytest.raises(RuntimeError), store.transaction():
        store.insert("todo", "tasks", {"title": "a"})
        store.insert_many("todo", "tasks", ["title"], [["b"], ["c"]])
        assert store.count("todo", "tasks") == 3  # the transaction sees its own writes
        raise RuntimeError("plugin error")
    assert store.count("todo", "tasks") == 0


def test_failed_call_inside_a_transaction_leaves_the_rest(store: PluginStore) -> None:
    with store.transaction():
        store.insert("todo", "tasks", {"title": "a"})
        with pytest.raises(QueryRejected):
            store.insert("todo", "tasks", {"title": "a"})  # nil, err in Lua; tx goes on
        store.insert("todo", "tasks", {"title": "b"})
    assert titles(store, {"order_by": "title"}) == ["a", "b"]


def test_define_table_rolled_back_with_its_transaction(store: PluginStore) -> None:
    with pytest.raises(RuntimeError), store.transaction():
        store.define_table("todo", "temp", {"columns": [{"name": "x", "type": "text"}]})
        store.insert("todo", "temp", {"x": "1"})
        raise RuntimeError("abort")
    with pytest.raises(QueryRejected, match="no such table: plugin_todo_temp"):
        store.query("todo", "temp")
    assert store.catalog().get("plugin_todo_temp") is None


def test_catalog_follows_ddl_from_another_connection(db: Database) -> None:
    store = PluginStore(db)
    assert store.catalog().get("plugin_other_t") is None
    other = Database(db.path)
    try:
        PluginStore(other).define_table("other", "t", {"columns": [{"name": "x", "type": "text"}]})
    finally:
        other.close()
    store.insert("other", "t", {"x": "seen"})
    assert store.query("other", "t")[0]["x"] == "seen"


def test_drift_is_reported_and_remembered(db: Database, store: PluginStore) -> None:
    with db.transaction() as conn:
        conn.execute('ALTER TABLE "plugin_todo_owners" ADD COLUMN "legacy" TEXT')
    wanted = {"columns": [{"name": "name", "type": "text"}, {"name": "email", "type": "text"}]}
    drift = store.define_table("todo", "owners", wanted)
    assert [(d.kind, d.column) for d in drift] == [("missing", "email"), ("extra", "legacy")]
    assert store.schema_drift("todo") == drift


def test_index_on_a_missing_column_of_an_existing_table_raises(store: PluginStore) -> None:
    wanted = {
        "columns": [{"name": "name", "type": "text"}, {"name": "email", "type": "text"}],
        "indexes": [{"columns": ["email"]}],
    }
    with pytest.raises(QueryRejected, match='index column "email" not found') as info:
        store.define_table("todo", "owners", wanted)
    assert info.value.raises
    assert store.schema_drift("todo") == []


def test_create_index(db: Database, store: PluginStore) -> None:
    store.create_index("todo", "tasks", {"columns": ["owner", "n"]})
    store.create_index("todo", "tasks", {"columns": ["owner", "n"]})  # IF NOT EXISTS
    assert (
        db.scalar("SELECT COUNT(*) FROM sqlite_master WHERE name = 'idx_plugin_todo_tasks_owner_n'")
        == 1
    )


# -- core reads ---------------------------------------------------------------------------


@pytest.fixture
def people(db: Database) -> None:
    with db.transaction() as conn:
        conn.execute(
            "INSERT INTO roles (role_id, name, date_created, date_modified) "
            "VALUES ('r1', 'plugin-test-role', 'now', 'now')"
        )
        for n in range(3):
            conn.execute(
                "INSERT INTO users (user_id, email, name, hash, role_id, date_created, "
                "date_modified) VALUES (?, ?, ?, 'secret-hash', 'r1', 'now', 'now')",
                (f"u{n}", f"u{n}@example.com", f"user {n}"),
            )


@pytest.mark.usefixtures("people")
def test_core_reads_never_return_the_hash(store: PluginStore) -> None:
    access = {"users": ["read"]}
    rows = store.core_query("p", access, "users", {"where": {"role_id": "r1"}, "order_by": "email"})
    assert [r["email"] for r in rows] == ["u0@example.com", "u1@example.com", "u2@example.com"]
    assert all("hash" not in r for r in rows)
    one = store.core_query_one("p", access, "users", {"where": ["email", "LIKE", "u1%"]})
    assert one is not None and one["user_id"] == "u1"
    assert store.core_count("p", access, "users", {"where": ["user_id", "IN", ["u0", "u2"]]}) == 2
    assert store.core_exists("p", access, "users", {"where": {"user_id": "u2"}})
    with pytest.raises(QueryRejected, match="blocked"):
        store.core_query("p", access, "users", {"columns": ["hash"]})
    with pytest.raises(QueryRejected, match="has no approved access"):
        store.core_query("p", {}, "users")
    with pytest.raises(QueryRejected, match="not accessible to plugins"):
        store.core_query("p", {"sessions": ["read"]}, "sessions")


def test_core_can_read_the_table_registry(store: PluginStore) -> None:
    rows = store.core_query("p", {"tables": ["read"]}, "tables", {"where": {"plugin_name": "todo"}})
    assert sorted(str(r["short_name"]) for r in rows) == ["owners", "tasks"]


def test_query_columns_holds_the_same_rows_as_query(store: PluginStore) -> None:
    assert store.query_columns("todo", "tasks").rows == []
    store.insert("todo", "tasks", {"title": "b", "n": 2, "data": b"\x00\xff"})
    store.insert("todo", "tasks", {"title": "a", "score": 0.5})
    opts = {"order_by": "title"}
    columns = store.query_columns("todo", "tasks", opts)
    assert columns.names[0] == "id" and "title" in columns.names
    assert all(len(row) == len(columns.names) for row in columns.rows)
    assert columns.as_rows() == store.query("todo", "tasks", opts)
    with pytest.raises(QueryRejected):
        store.query_columns("todo", "tasks", {"order_by": "title; DROP TABLE x"})
