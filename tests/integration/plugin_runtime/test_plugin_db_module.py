"""The db and core modules on a real SQLite database (spec §4, §5)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from plugin_helpers import PLUGINS, call_global, run_in, values

from modulacms.core.events import HookEvent
from modulacms.core.models import Actor
from modulacms.db.connection import Database
from modulacms.db.plugin_store import PluginStore
from modulacms.errors import ValidationFailed
from modulacms.plugin_runtime.approvals import MemoryApprovals
from modulacms.plugin_runtime.instance import PluginState
from modulacms.plugin_runtime.manager import PluginManager
from modulacms.plugin_runtime.options import RuntimeOptions
from modulacms.plugin_runtime.services import HostServices


def load(
    db: Database,
    tmp_path: Path,
    *names: str,
    inline: dict[str, str] | None = None,
    **options: object,
) -> PluginManager:
    root = tmp_path / "plugins"
    root.mkdir(exist_ok=True)
    for name in names:
        shutil.copytree(PLUGINS / name, root / name)
    for name, body in (inline or {}).items():
        (root / name).mkdir()
        (root / name / "init.lua").write_text(
            f'plugin_info = {{ name = "{name}", version = "1", description = "d" }}\n' + body
        )
    manager = PluginManager(
        root,
        RuntimeOptions(**{"max_vms": 2, **options}),  # type: ignore[arg-type]
        HostServices(store=PluginStore(db)),
        MemoryApprovals(auto_approve=True),
    )
    manager.load_all()
    return manager


def test_bookmarks_fixture_runs_its_whole_scenario(db: Database, tmp_path: Path) -> None:
    manager = load(db, tmp_path, "test_bookmarks")
    instance = manager.instances["test_bookmarks"]
    assert instance.state is PluginState.RUNNING, instance.failed_reason
    assert db.scalar("SELECT count(*) FROM plugin_test_bookmarks_collections") == 2
    assert db.scalar("SELECT count(*) FROM plugin_test_bookmarks_bookmarks") == 3
    for row in db.execute("SELECT id, created_at, updated_at FROM plugin_test_bookmarks_bookmarks"):
        assert all(row)
    result = run_in(instance, 'return require("validators").trim("  x ")')
    assert values(result) == ["x"]
    manager.shutdown()
    assert instance.state is PluginState.STOPPED


def test_globals_leaked_during_a_checkout_are_gone_and_ops_reset(
    db: Database, tmp_path: Path
) -> None:
    manager = load(db, tmp_path, "test_bookmarks", max_vms=1)
    instance = manager.instances["test_bookmarks"]
    run_in(instance, "leaked = 1 for i = 1, 10 do db.count('bookmarks') end")
    assert values(run_in(instance, "return leaked, db.count('bookmarks')", ops=1)) == [None, 3]


INLINE = """
function on_init()
  db.define_table("tasks", { columns = { { name = "title", type = "text" } } })
end
"""


def test_op_budget(db: Database, tmp_path: Path) -> None:
    manager = load(db, tmp_path, inline={"budget": INLINE})
    instance = manager.instances["budget"]
    result = run_in(instance, "for i = 1, 6 do db.insert('tasks', { title = 't' .. i }) end", ops=5)
    assert not result.ok
    assert 'plugin "budget" exceeded maximum operations per execution (5)' in result.message
    assert db.scalar("SELECT count(*) FROM plugin_budget_tasks") == 5


def test_errors_return_or_raise_per_spec(db: Database, tmp_path: Path) -> None:
    manager = load(db, tmp_path, inline={"isolated": INLINE})
    instance = manager.instances["isolated"]
    rows, err = values(run_in(instance, "return db.query('users')"))
    assert rows is None and isinstance(err, str)
    for call, message in [
        ("db.update('tasks', { set = { title = 'x' } })", "non-empty where"),
        ("db.delete('tasks', {})", "non-empty where"),
        ("db.update('tasks', { where = { title = 'x' } })", "set"),
        (
            "db.transaction(function() db.transaction(function() end) end) error(select(2, "
            "db.transaction(function() db.transaction(function() end) end)))",
            "nested transactions are not allowed",
        ),
        ("db.eq(nil)", "condition value cannot be nil"),
        ("db.in_list()", "in_list requires at least one value"),
        ("db.query()", "bad argument #1 to 'query'"),
    ]:
        result = run_in(instance, call)
        assert not result.ok and message in result.message, (call, result.message)
    ok, err = values(run_in(instance, "return db.like(5)"))
    assert ok is None and err == "like requires a string value"


def test_transaction_is_atomic_and_sees_its_own_writes(db: Database, tmp_path: Path) -> None:
    manager = load(db, tmp_path, inline={"atomic": INLINE})
    instance = manager.instances["atomic"]
    src = """
      local seen
      local ok, err = db.transaction(function()
        db.insert("tasks", { title = "a" })
        seen = db.count("tasks")
        error("abort")
      end)
      return ok, err, seen, db.count("tasks")
    """
    ok, err, seen, after = values(run_in(instance, src))
    assert (ok, seen, after) == (False, 1, 0)
    assert err.endswith("abort")
    src = "return db.transaction(function() db.insert('tasks', { title = 'b' }) end)"
    assert values(run_in(instance, src)) == [True, None]


def test_a_timeout_inside_a_transaction_rolls_it_back(db: Database, tmp_path: Path) -> None:
    manager = load(db, tmp_path, inline={"slowtx": INLINE})
    instance = manager.instances["slowtx"]
    src = "db.transaction(function() db.insert('tasks', { title = 'x' }) while true do end end)"
    result = run_in(instance, src, timeout=0.2)
    assert result.status.value == "timeout"
    assert db.scalar("SELECT count(*) FROM plugin_slowtx_tasks") == 0
    assert not db.in_transaction


def test_identifier_injection_is_refused_everywhere(db: Database, tmp_path: Path) -> None:
    manager = load(db, tmp_path, "attack_sql")
    instance = manager.instances["attack_sql"]
    assert instance.running, instance.failed_reason
    probes = values(call_global(instance, "probes"))[0]
    for name, outcome in probes.items():
        assert isinstance(outcome, str) and outcome.startswith(("nil: ", "raised: ")), name
    assert values(call_global(instance, "survivors")) == [1]
    assert db.scalar("SELECT count(*) FROM users") is not None


def test_plugins_cannot_touch_other_plugins_or_core_tables(db: Database, tmp_path: Path) -> None:
    manager = load(db, tmp_path, "test_bookmarks", "attack_neighbour")
    instance = manager.instances["attack_neighbour"]
    assert instance.running, instance.failed_reason
    probes = values(call_global(instance, "probes"))[0]
    for name, outcome in probes.items():
        assert outcome.startswith(("nil: ", "raised: ")), (name, outcome)
    assert "no approved access" in probes["core_users"]
    assert "not accessible to plugins" in probes["core_sessions"]


def test_db_is_blocked_inside_before_hooks(db: Database, tmp_path: Path, caplog) -> None:
    manager = load(db, tmp_path, "hooks_db_blocked_plugin")
    with pytest.raises(ValidationFailed):
        manager.hooks.before(HookEvent.BEFORE_CREATE, "content_data", {}, Actor.system())
    assert any("db.* calls are not allowed inside before-hooks" in m for m in caplog.messages)
