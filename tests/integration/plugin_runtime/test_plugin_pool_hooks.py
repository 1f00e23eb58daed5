"""VM pool (spec §10.1) and hook dispatch (spec §7) on real plugin instances."""

from __future__ import annotations

import logging
import shutil
import threading
import time
from pathlib import Path

import pytest
from plugin_helpers import PLUGINS

from modulacms.core.events import HookEvent
from modulacms.core.models import Actor
from modulacms.errors import ValidationFailed
from modulacms.plugin_runtime.approvals import MemoryApprovals
from modulacms.plugin_runtime.manager import PluginManager
from modulacms.plugin_runtime.options import RuntimeOptions
from modulacms.plugin_runtime.pool import PoolClosed, PoolExhausted


@pytest.fixture
def actor() -> Actor:
    return Actor.system()


def manager_for(
    tmp_path: Path, *names: str, approve: bool = True, **options: object
) -> PluginManager:
    root = tmp_path / "plugins"
    root.mkdir(exist_ok=True)
    for name in names:
        shutil.copytree(PLUGINS / name, root / name)
    opts = RuntimeOptions(**{"max_vms": 2, "timeout": 1.0, **options})  # type: ignore[arg-type]
    manager = PluginManager(root, opts, approvals=MemoryApprovals(auto_approve=approve))
    manager.load_all()
    return manager


def test_checkout_times_out_when_every_general_vm_is_busy(tmp_path: Path) -> None:
    manager = manager_for(tmp_path, "reload_plugin", max_vms=3, hook_reserve_vms=1)
    pool = manager.instances["reload_plugin"].pool
    assert pool is not None and (pool.total, pool.reserved_size) == (3, 1)
    a = pool.acquire()
    b = pool.acquire()
    started = time.monotonic()
    with pytest.raises(PoolExhausted):
        pool.acquire()
    assert 0.09 <= time.monotonic() - started < 0.5
    reserved = pool.acquire_for_hook()  # hooks may use the reserved VM
    with pytest.raises(PoolExhausted, match="hook VM pool exhausted"):
        pool.acquire_for_hook()
    pool.release(reserved)  # returned VMs refill the reserved side first
    threading.Timer(0.03, pool.release, (a,)).start()
    assert pool.acquire() is a  # a waiting checkout gets a returned VM
    for vm in (a, b):
        pool.release(vm)
    assert pool.available == 3


def test_unhealthy_vms_are_replaced(tmp_path: Path) -> None:
    manager = manager_for(tmp_path, "attack_frozen", max_vms=1)
    pool = manager.instances["attack_frozen"].pool
    assert pool is not None
    with pool.lease() as vm:
        result = vm.execute(vm.sandbox.get_global("attack_rebind"), timeout=1.0)
        assert result.ok
    assert pool.replaced == 1 and pool.available == 1
    with pool.lease() as fresh:
        assert fresh is not vm
        ok = fresh.execute(fresh.sandbox.get_global("probe_still_works"), timeout=1.0)
        assert ok.ok


def test_drain_refuses_checkouts_and_waits(tmp_path: Path) -> None:
    manager = manager_for(tmp_path, "reload_plugin")
    pool = manager.instances["reload_plugin"].pool
    assert pool is not None
    vm = pool.acquire()
    threading.Timer(0.05, pool.release, (vm,)).start()
    assert pool.drain(2.0) is True
    with pytest.raises(PoolClosed):
        pool.acquire()


def test_hook_order_priority_then_specific_then_registration(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, actor: Actor
) -> None:
    manager = manager_for(
        tmp_path, "hooks_priority_plugin", "hooks_wildcard_plugin", "hooks_plugin"
    )
    chain = manager.hooks.chain("before_create", "content_data")
    assert [(e.plugin, e.table) for e in chain] == [
        ("hooks_plugin", "content_data"),
        ("hooks_wildcard_plugin", "*"),
    ]
    assert manager.hooks.has_hooks("before_create", "any_table_name")
    with caplog.at_level(logging.INFO, logger="modulacms.plugins"):
        manager.hooks.before(HookEvent.BEFORE_UPDATE, "content_data", {"title": "x"}, actor)
    assert [m.split(" plugin=")[0] for m in caplog.messages] == [
        "priority 50",
        "priority default",
        "priority 200",
    ]
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="modulacms.plugins"):
        manager.hooks.before(HookEvent.BEFORE_CREATE, "content_data", {"title": "x"}, actor)
    assert caplog.messages == [
        "hooks_plugin before_create plugin=hooks_plugin event=before_create table=content_data",
        "wildcard before_create plugin=hooks_wildcard_plugin table=content_data",
    ]
    metrics = manager.metrics
    assert metrics.counter_total("plugin.hook.before", status="ok") == 5


def test_after_hooks_run_after_the_call_returns(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, actor: Actor
) -> None:
    manager = manager_for(tmp_path, "hooks_plugin", "hooks_wildcard_plugin")
    with caplog.at_level(logging.INFO, logger="modulacms.plugins"):
        manager.hooks.after(HookEvent.AFTER_CREATE, "content_data", {"title": "x"}, actor)
        manager.hooks.after(HookEvent.AFTER_UPDATE, "media", {"name": "m"}, actor)
        assert manager.hooks.wait_idle(5)
    assert sorted(caplog.messages) == [
        "hooks_plugin after_create plugin=hooks_plugin event=after_create table=content_data",
        "wildcard after_update plugin=hooks_wildcard_plugin table=media",
    ]
    assert manager.metrics.counter_total("plugin.hook.after", status="ok") == 2


def test_after_hooks_run_in_bursts_on_their_own_without_blocking_writers(
    tmp_path: Path, actor: Actor
) -> None:
    manager = manager_for(tmp_path, "hooks_plugin", hook_max_concurrent_after=2)
    started = time.monotonic()
    for i in range(6):  # three times the concurrency limit
        manager.hooks.after(HookEvent.AFTER_CREATE, "content_data", {"title": str(i)}, actor)
    assert time.monotonic() - started < 0.5  # a full queue is run at once, not gathered
    deadline = time.monotonic() + 2.0
    # nobody waits: the workers still run everything shortly after the writes
    while manager.metrics.counter_total("plugin.hook.after", status="ok") < 6:
        assert time.monotonic() < deadline, "after-hooks did not run"
        time.sleep(0.005)
    assert manager.hooks.wait_idle(1)
    manager.hooks.close(1)


def test_an_aborting_hook_blocks_the_write_with_a_validation_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, actor: Actor
) -> None:
    manager = manager_for(tmp_path, "hooks_abort_plugin", hook_max_consecutive_aborts=3)
    with pytest.raises(ValidationFailed) as info:
        manager.hooks.before(HookEvent.BEFORE_CREATE, "content_data", {}, actor)
    assert 'operation blocked by plugin "hooks_abort_plugin"' in info.value.message
    assert "title is required" not in info.value.message
    assert any("title is required" in m for m in caplog.messages)
    for _ in range(2):
        with pytest.raises(ValidationFailed):
            manager.hooks.before(HookEvent.BEFORE_CREATE, "content_data", {}, actor)
    # three consecutive aborts with threshold 3 disable the hook
    manager.hooks.before(HookEvent.BEFORE_CREATE, "content_data", {}, actor)


def test_unapproved_hooks_are_skipped(tmp_path: Path, actor: Actor) -> None:
    manager = manager_for(tmp_path, "hooks_abort_plugin", approve=False)
    manager.hooks.before(HookEvent.BEFORE_CREATE, "content_data", {}, actor)
    assert manager.hooks.chain("before_create", "content_data") == []


def test_a_looping_hook_is_stopped_by_the_hook_timeout(tmp_path: Path, actor: Actor) -> None:
    root = tmp_path / "plugins"
    (root / "slow_hook").mkdir(parents=True)
    (root / "slow_hook" / "init.lua").write_text(
        'plugin_info = { name = "slow_hook", version = "1", description = "d" }\n'
        'hooks.on("before_delete", "*", function() while true do end end)\n'
    )
    manager = PluginManager(
        root,
        RuntimeOptions(max_vms=2, hook_timeout_ms=100),
        approvals=MemoryApprovals(auto_approve=True),
    )
    manager.load_all()
    started = time.monotonic()
    with pytest.raises(ValidationFailed):
        manager.hooks.before(HookEvent.BEFORE_DELETE, "media", {}, actor)
    assert time.monotonic() - started < 1.0
    assert manager.metrics.counter_total("plugin.hook.before", status="timeout") == 1
