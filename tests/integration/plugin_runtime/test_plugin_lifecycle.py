"""Loading, on_init/on_shutdown, dependencies, reload and enable/disable (spec §1)."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest
from plugin_helpers import PLUGINS

from modulacms.errors import PluginLoadError
from modulacms.plugin_runtime.approvals import MemoryApprovals
from modulacms.plugin_runtime.instance import PluginState
from modulacms.plugin_runtime.manager import PluginManager
from modulacms.plugin_runtime.options import RuntimeOptions

FAST = RuntimeOptions(max_vms=2, timeout=0.5)


def plugin_dir(tmp_path: Path, *names: str) -> Path:
    root = tmp_path / "plugins"
    root.mkdir(exist_ok=True)
    for name in names:
        shutil.copytree(PLUGINS / name, root / name)
    return root


def write(root: Path, name: str, body: str, *, deps: str = "") -> Path:
    path = root / name
    path.mkdir(parents=True, exist_ok=True)
    manifest = (
        f'plugin_info = {{ name = "{name}", version = "1.0.0", description = "d", '
        f"dependencies = {{ {deps} }} }}\n"
    )
    (path / "init.lua").write_text(manifest + body)
    return path


def test_load_all_states(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    root = plugin_dir(
        tmp_path,
        "failing_plugin",
        "timeout_plugin",
        "reload_plugin",
        "invalid_bad_name",
        "invalid_no_manifest",
        "sandbox_test_plugin",
    )
    manager = PluginManager(root, FAST)
    with caplog.at_level(logging.INFO):
        manager.load_all()
    states = {name: manager.instances[name].state for name in manager.names()}
    assert states == {
        "failing_plugin": PluginState.FAILED,
        "reload_plugin": PluginState.RUNNING,
        "sandbox_test_plugin": PluginState.RUNNING,
        "timeout_plugin": PluginState.FAILED,
    }
    failing = manager.instances["failing_plugin"]
    assert failing.failed_reason.startswith("on_init failed: ")
    assert "intentional failure for testing" in failing.failed_reason
    assert "context deadline exceeded" in manager.instances["timeout_plugin"].failed_reason
    assert [d for d, _ in manager.problems] == ["invalid_bad_name", "invalid_no_manifest"]
    assert any("reload_plugin init" in m for m in caplog.messages)
    with caplog.at_level(logging.INFO):
        manager.shutdown()
    assert any("reload_plugin shutdown" in m for m in caplog.messages)
    assert manager.instances["reload_plugin"].state is PluginState.STOPPED
    assert manager.instances["timeout_plugin"].state is PluginState.FAILED


def test_every_vm_reaches_runtime_and_init_globals_stay_on_one_vm(tmp_path: Path) -> None:
    root = tmp_path / "plugins"
    write(root, "phases", "function on_init() made_in_init = true end\n")
    manager = PluginManager(root, RuntimeOptions(max_vms=3))
    manager.load_all()
    instance = manager.instances["phases"]
    assert instance.pool is not None
    vms = instance.pool.idle_vms()
    assert {vm.phase.value for vm in vms} == {"runtime"}
    assert sorted(vm.sandbox.global_type("made_in_init") for vm in vms) == [
        "boolean",
        "nil",
        "nil",
    ]
    manager.shutdown()


def test_registration_inside_on_init_fails_the_plugin(tmp_path: Path) -> None:
    root = tmp_path / "plugins"
    write(root, "late", 'function on_init() hooks.on("before_create", "x", function() end) end\n')
    manager = PluginManager(root, FAST)
    manager.load_all()
    instance = manager.instances["late"]
    assert instance.state is PluginState.FAILED
    assert "on_init failed" in instance.failed_reason
    assert "must be called at module scope" in instance.failed_reason


def test_dependencies_load_in_order_and_missing_ones_fail_everything(tmp_path: Path) -> None:
    root = tmp_path / "plugins"
    write(root, "base", "function on_init() end\n")
    write(root, "addon", "", deps='"base"')
    manager = PluginManager(root, FAST)
    manager.load_all()
    assert manager.order == ["base", "addon"]
    assert manager.instances["addon"].running
    write(root, "orphan", "", deps='"ghost"')
    with pytest.raises(PluginLoadError, match='plugin "orphan" depends on "ghost"'):
        PluginManager(root, FAST).load_all()
    (root / "orphan" / "init.lua").unlink()
    write(root, "x", "", deps='"y"')
    write(root, "y", "", deps='"x"')
    with pytest.raises(PluginLoadError, match="circular dependency detected among plugins: x, y"):
        PluginManager(root, FAST).load_all()


def test_a_failed_dependency_fails_its_dependents(tmp_path: Path) -> None:
    root = tmp_path / "plugins"
    write(root, "base", 'function on_init() error("no") end\n')
    write(root, "addon", "", deps='"base"')
    manager = PluginManager(root, FAST)
    manager.load_all()
    assert manager.instances["addon"].failed_reason == (
        'dependency "base" is in state failed, not running'
    )


def test_reload_is_blue_green(tmp_path: Path) -> None:
    root = plugin_dir(tmp_path, "reload_plugin")
    manager = PluginManager(root, FAST)
    manager.load_all()
    old = manager.instances["reload_plugin"]
    init = root / "reload_plugin" / "init.lua"
    good = init.read_text()
    init.write_text(good.replace('version = "1.0.0"', 'version = "2.0.0"'))
    new = manager.reload("reload_plugin")
    assert new is manager.instances["reload_plugin"] and new is not old
    assert new.version == "2.0.0"
    init.write_text(good + "\nfunction on_init() error('broken release') end\n")
    with pytest.raises(PluginLoadError, match=r"reload failed: on_init failed: .*old version"):
        manager.reload("reload_plugin")
    assert manager.instances["reload_plugin"] is new and new.running
    metrics = manager.metrics
    assert metrics.counter("plugin.reload", {"plugin": "reload_plugin", "status": "success"}) == 1
    assert metrics.counter("plugin.reload", {"plugin": "reload_plugin", "status": "error"}) == 1
    manager.shutdown()


def test_disable_and_enable(tmp_path: Path) -> None:
    root = plugin_dir(tmp_path, "reload_plugin")
    approvals = MemoryApprovals()
    manager = PluginManager(root, FAST, approvals=approvals)
    manager.load_all()
    stopped = manager.deactivate("reload_plugin")
    assert stopped.state is PluginState.STOPPED
    assert stopped.breaker.state.value == "open"
    assert manager.deactivate("reload_plugin").state is PluginState.STOPPED  # idempotent
    assert approvals.snapshot().status["reload_plugin"] == "disabled"
    # a disabled plugin stays stopped across restarts
    again = PluginManager(root, FAST, approvals=approvals)
    again.load_all()
    assert again.instances["reload_plugin"].state is PluginState.STOPPED
    running = manager.activate("reload_plugin")
    assert running.running and running.breaker.state.value == "closed"
    assert approvals.snapshot().status["reload_plugin"] == "enabled"


def test_a_server_seeing_a_plugin_for_the_first_time_runs_on_init_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Recording a new plugin's capabilities at start must not read as a reload request."""
    from modulacms.app import build_app
    from modulacms.plugin_runtime.runtime import PluginRuntime

    root = tmp_path / "plugins"
    write(root, "fresh", 'function on_init() log.info("fresh init ran") end\n')
    app = build_app(tmp_path / "site.db")
    try:
        with caplog.at_level(logging.INFO):
            runtime = PluginRuntime(app.db, app.services, root, FAST).start()
            try:
                first = runtime.manager.instance("fresh")
                runtime.coordinator.tick()  # what the server does every second
                assert runtime.manager.instance("fresh") is first
            finally:
                runtime.close()
        assert sum("fresh init ran" in m for m in caplog.messages) == 1
    finally:
        app.close()
