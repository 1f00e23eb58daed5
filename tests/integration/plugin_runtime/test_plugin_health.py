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


def test_breaker_state_and_last_error_reach_the_database(db: Database, tmp_path: Path) -> None:
    root = tmp_path / "plugins"
    root.mkdir()
    shutil.copytree(PLUGINS / "http_error_plugin", root / "http_error_plugin")
    store = ApprovalStore(db)
    manager = PluginManager(
        root, RuntimeOptions(max_vms=2, timeout=5.0, max_failures=3), approvals=store
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
