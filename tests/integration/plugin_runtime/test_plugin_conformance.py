"""Whole-directory load of every fixture plugin (spec §16 "whole-dir load"), the
approval rules of spec §6.5/§7.6/§11 in the database, and hot reload."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from plugin_helpers import PLUGINS

from modulacms.core.models import Actor
from modulacms.db.connection import Database
from modulacms.db.plugin_store import PluginStore
from modulacms.plugin_runtime.approvals import ApprovalStore
from modulacms.plugin_runtime.instance import PluginState
from modulacms.plugin_runtime.manager import PluginManager
from modulacms.plugin_runtime.options import RuntimeOptions
from modulacms.plugin_runtime.runtime import HotReloader, plugin_checksum
from modulacms.plugin_runtime.services import HostServices

RUNNING = [
    "hooks_abort_plugin",
    "hooks_db_blocked_plugin",
    "hooks_plugin",
    "hooks_priority_plugin",
    "hooks_publish_plugin",
    "hooks_wildcard_plugin",
    "http_blocked_headers",
    "http_error_plugin",
    "http_middleware_plugin",
    "http_params_plugin",
    "http_plugin",
    "http_public_plugin",
    "http_timeout_plugin",
    "reload_plugin",
    "sandbox_test_plugin",
    "test_bookmarks",
]


def test_whole_fixture_directory_loads(db: Database) -> None:
    manager = PluginManager(
        PLUGINS,
        RuntimeOptions(max_vms=2, timeout=2.0, max_ops=1000),
        HostServices(store=PluginStore(db)),
        ApprovalStore(db),
    )
    manager.load_all()  # no dependency problem across the whole set
    states = {name: manager.instances[name].state for name in manager.names()}
    for name in RUNNING:
        assert states[name] is PluginState.RUNNING, (name, manager.instances[name].failed_reason)
    assert states["failing_plugin"] is PluginState.FAILED
    assert states["timeout_plugin"] is PluginState.FAILED
    assert manager.instances["timeout_plugin"].failed_reason
    for absent in ("invalid_bad_name", "invalid_no_manifest", "http_test"):
        assert absent not in states
    assert manager.hooks.has_hooks("before_create", "content_data")
    assert manager.hooks.has_hooks("before_publish", "content_data")
    assert manager.hooks.has_hooks("before_create", "any_table_name")
    assert db.scalar("SELECT count(*) FROM plugin_test_bookmarks_collections") == 2
    assert db.scalar("SELECT count(*) FROM plugin_test_bookmarks_bookmarks") == 3
    manager.shutdown()
    assert manager.instances["test_bookmarks"].state is PluginState.STOPPED
    assert manager.instances["timeout_plugin"].state is PluginState.FAILED


def write(root: Path, version: str, *, public: bool = True, extra: str = "") -> None:
    (root / "p").mkdir(parents=True, exist_ok=True)
    flag = "true" if public else "false"
    (root / "p" / "init.lua").write_text(
        f'plugin_info = {{ name = "p", version = "{version}", description = "d" }}\n'
        f'http.handle("GET", "/a", function() return {{}} end, {{ public = {flag} }})\n'
        'http.handle("GET", "/b", function() return {} end)\n'
        'hooks.on("before_create", "content_data", function() end)\n'
        'request.register("api.example.com")\n' + extra
    )


def test_approval_rules_across_versions(db: Database, tmp_path: Path) -> None:
    root = tmp_path / "plugins"
    write(root, "1.0")
    store = ApprovalStore(db)
    options = RuntimeOptions(max_vms=1)
    manager = PluginManager(root, options, HostServices(store=PluginStore(db)), store)
    manager.load_all()
    assert [r.approved for r in store.routes("p")] == [False, False]
    assert store.set_all_routes("p", True, "ann") == 2
    store.set_all_hooks("p", True, "ann")
    store.set_domain("p", "api.example.com", True, "ann")
    manager.refresh_approvals()
    snapshot = manager.approvals_snapshot
    assert snapshot.route("p", "GET", "/a") and snapshot.hook("p", "before_create", "content_data")
    assert snapshot.domain("p", "API.example.com")
    # same version, public flag changed: that route loses its approval
    write(root, "1.0", public=False)
    manager.reload("p")
    assert {r.path: r.approved for r in store.routes("p")} == {"/a": False, "/b": True}
    # a new version revokes every route; hooks and domains keep their approval
    write(root, "2.0", public=False)
    manager.reload("p")
    assert [r.approved for r in store.routes("p")] == [False, False]
    assert [h.approved for h in store.hooks("p")] == [True]
    assert [d.approved for d in store.domains("p")] == [True]
    # rows of plugins that are no longer discovered are deleted at start-up
    shutil.rmtree(root / "p")
    PluginManager(root, options, HostServices(store=PluginStore(db)), store).load_all()
    assert store.routes("p") == [] and store.hooks("p") == [] and store.domains("p") == []


def test_hot_reload_sees_lib_changes_with_debounce_and_cooldown(tmp_path: Path) -> None:
    root = tmp_path / "plugins"
    shutil.copytree(PLUGINS / "sandbox_test_plugin", root / "sandbox_test_plugin")
    manager = PluginManager(root, RuntimeOptions(max_vms=1))
    manager.load_all()
    watcher = HotReloader(manager, debounce=0.2, cooldown=0.5)
    before = plugin_checksum(root / "sandbox_test_plugin")
    watcher.start()
    try:
        first = manager.instances["sandbox_test_plugin"]
        helpers = root / "sandbox_test_plugin" / "lib" / "helpers.lua"
        helpers.write_text(helpers.read_text().replace('"hello "', '"hi "'))
        assert plugin_checksum(root / "sandbox_test_plugin") != before
        deadline = time.monotonic() + 10
        while manager.instances["sandbox_test_plugin"] is first and time.monotonic() < deadline:
            time.sleep(0.05)
        second = manager.instances["sandbox_test_plugin"]
        assert second is not first
        assert second.pool is not None
        with second.pool.lease() as vm:
            result = vm.execute(vm.sandbox.get_global("greet_world"), timeout=1.0)
        assert [v for v in result.values] == [b"hi world"]
        # a change inside the cooldown is dropped until the next edit
        helpers.write_text(helpers.read_text().replace('"hi "', '"hey "'))
        time.sleep(0.45)
        assert manager.instances["sandbox_test_plugin"] is second
        assert watcher.reloads == 1
    finally:
        watcher.stop()
        manager.shutdown()


def test_actor_for_plugins_is_named() -> None:
    assert Actor.plugin("shop").name == "shop"
