"""A server records each plugin's breaker state and latest error in the database."""

from __future__ import annotations

import shutil
from pathlib import Path

from plugin_helpers import PLUGINS
from test_plugin_bridge import call

from modulacms.db.connection import Database
from modulacms.plugin_runtime.approvals import ApprovalStore
from modulacms.plugin_runtime.bridge import PluginBridge
from modulacms.plugin_runtime.health import HealthRecorder
from modulacms.plugin_runtime.manager import PluginManager
from modulacms.plugin_runtime.options import RuntimeOptions


def failing_plugin(tmp_path: Path) -> Path:
    """A plugin directory holding the fixture whose ``/fail`` route always errors."""
    root = tmp_path / "plugins"
    root.mkdir()
    shutil.copytree(PLUGINS / "http_error_plugin", root / "http_error_plugin")
    return root


def test_breaker_state_and_last_error_reach_the_database(db: Database, tmp_path: Path) -> None:
    root = failing_plugin(tmp_path)
    store = ApprovalStore(db)
    manager = PluginManager(
        root,
        RuntimeOptions(max_vms=2, timeout=5.0, max_failures=3),
        approvals=store,
        record_health=True,
    )
    manager.load_all()
    store.set_all_routes("http_error_plugin", True, "test")
    manager.refresh_approvals()
    bridge = PluginBridge(manager)
    try:
        for _ in range(3):
            assert call(bridge, "GET", "/http_error_plugin/fail").status == 500
        assert manager.health.flush()
        health = store.health()["http_error_plugin"]
        assert health.breaker_state == "open" and health.breaker_since
        assert health.last_error and health.last_error_at
    finally:
        manager.shutdown()


def test_a_started_plugin_replaces_the_state_an_earlier_process_recorded(
    db: Database, tmp_path: Path
) -> None:
    root = failing_plugin(tmp_path)
    store = ApprovalStore(db)
    options = RuntimeOptions(max_vms=1, timeout=5.0, max_failures=1)
    first = PluginManager(root, options, approvals=store, record_health=True)
    first.load_all()
    assert first.health is not None and first.health.flush()
    assert store.health()["http_error_plugin"].breaker_state == "closed"
    store.set_all_routes("http_error_plugin", True, "test")
    first.refresh_approvals()
    bridge = PluginBridge(first)
    assert call(bridge, "GET", "/http_error_plugin/fail").status == 500
    first.shutdown()
    assert store.health()["http_error_plugin"].breaker_state == "open"

    # a new server starts with a closed breaker and says so
    second = PluginManager(root, options, approvals=store, record_health=True)
    try:
        second.load_all()
        assert second.health is not None and second.health.flush()
        health = store.health()["http_error_plugin"]
        assert health.breaker_state == "closed"
        assert health.last_error  # the error stays on record until a newer one
    finally:
        second.shutdown()


def test_a_process_that_does_not_serve_records_nothing(db: Database, tmp_path: Path) -> None:
    """The terminal admin (plugin screens) and CLI tools load plugins too; their breakers
    must not overwrite what a running server recorded."""
    root = failing_plugin(tmp_path)
    store = ApprovalStore(db)
    manager = PluginManager(
        root, RuntimeOptions(max_vms=1, timeout=5.0, max_failures=1), approvals=store
    )
    manager.load_all()
    store.set_all_routes("http_error_plugin", True, "test")
    manager.refresh_approvals()
    try:
        assert manager.health is None
        assert call(PluginBridge(manager), "GET", "/http_error_plugin/fail").status == 500
        assert manager.instances["http_error_plugin"].breaker.state.value == "open"
    finally:
        manager.shutdown()
    health = store.health()["http_error_plugin"]
    assert health.breaker_state is None and health.last_error is None


class Recording:
    def __init__(self) -> None:
        self.writes: list[tuple[str, str | None, str | None]] = []

    def record_health(self, name: str, breaker: str | None, error: str | None) -> None:
        self.writes.append((name, breaker, error))


def test_error_floods_are_throttled_but_state_changes_are_not() -> None:
    store = Recording()
    recorder = HealthRecorder(store, interval=60.0)
    for n in range(500):
        recorder.report("p", None, f"error {n}")
    recorder.report("p", "open", None)
    recorder.report("p", "closed", None)
    assert recorder.flush()
    recorder.close()
    assert store.writes == [("p", None, "error 0"), ("p", "open", None), ("p", "closed", None)]
