"""The hook engine's fast paths keep the spec's semantics (spec §7, §10.1, §10.7)."""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path

import pytest

from modulacms.core.events import HookEvent
from modulacms.core.models import Actor
from modulacms.errors import ValidationFailed
from modulacms.plugin_runtime.approvals import MemoryApprovals
from modulacms.plugin_runtime.hooks import AFTER_HOOK_SLOT_WAIT, HookData
from modulacms.plugin_runtime.manager import PluginManager
from modulacms.plugin_runtime.metrics import MetricsRegistry, label_key
from modulacms.plugin_runtime.options import RuntimeOptions, SandboxLimits

SEEN = """
plugin_info = { name = "seen", version = "1.0.0", description = "records its data" }

hooks.on("before_update", "content_data", function(data)
  data.status = "tampered"
  data.added = true
  data.fields.title = "tampered"
end, { priority = 1 })

hooks.on("before_update", "content_data", function(data)
  log.info("saw " .. json.encode(data))
end, { priority = 2 })

hooks.on("after_update", "content_data", function(data)
  log.info("saw " .. json.encode(data))
end)

hooks.on("before_delete", "content_data", function(data)
  if data.veto then error("vetoed") end
end)
"""

REBIND = """
plugin_info = { name = "rebind", version = "1.0.0", description = "rebinds a module" }

hooks.on("after_create", "content_data", function(data)
  if data.rebind then log = nil end
  log.info("ran " .. data.n)
end)
"""

SLOW = """
plugin_info = { name = "slow", version = "1.0.0", description = "one slow after-hook" }

hooks.on("after_create", "content_data", function(data)
  if data.slow then
    while true do end  -- stopped by the after-hook time limit
  end
end)
"""


def manager_with(
    tmp_path: Path, timeout: float = 2.0, after: int = 2, **plugins: str
) -> PluginManager:
    root = tmp_path / "plugins"
    for name, source in plugins.items():
        (root / name).mkdir(parents=True)
        (root / name / "init.lua").write_text(source)
    # three VMs: one is kept for before-hooks, so after-hooks have two (a slow one
    # occupies one of them)
    options = RuntimeOptions(max_vms=3, timeout=timeout, hook_max_concurrent_after=after)
    manager = PluginManager(root, options, approvals=MemoryApprovals(auto_approve=True))
    manager.load_all()
    return manager


def saw(caplog: pytest.LogCaptureFixture) -> list[dict[str, object]]:
    return [
        json.loads(m.removeprefix("saw ").split(" plugin=")[0])
        for m in caplog.messages
        if m.startswith("saw ")
    ]


ROW: dict[str, object] = {
    "content_data_id": "01ABC",
    "status": "draft",
    "title": "Grüße ✓",
    "revision": 3,
    "big": 2**60,
    "ratio": 0.25,
    "flag": True,
    "off": False,
    "parent_id": None,
    "raw": b"bytes",
    "fields": {"title": "T", "tags": ["a", None, "b"], "empty": None},
    "when": object(),
}


def expected(event: str) -> dict[str, object]:
    return {
        "content_data_id": "01ABC",
        "status": "draft",
        "title": "Grüße ✓",
        "revision": 3,
        "big": float(2**60),
        "ratio": 0.25,
        "flag": True,
        "off": False,
        "raw": "bytes",
        "fields": {"title": "T", "tags": ["a", "b"]},
        "_table": "content_data",
        "_event": event,
    }


def test_every_hook_gets_a_fresh_faithful_copy_of_the_row(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    manager = manager_with(tmp_path, seen=SEEN)
    row = dict(ROW)
    with caplog.at_level(logging.INFO, logger="modulacms.plugins"):
        manager.hooks.before(HookEvent.BEFORE_UPDATE, "content_data", row, Actor.system())
        manager.hooks.after(HookEvent.AFTER_UPDATE, "content_data", dict(ROW), Actor.system())
        assert manager.hooks.wait_idle(5)
    # NULL and unknown types leave their key out; the first hook's edits are not seen
    assert saw(caplog) == [expected("before_update"), expected("after_update")]
    assert row == ROW  # nor do they reach the caller's dict
    manager.shutdown()


def test_rows_outside_the_flat_form_convert_the_same_way(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    manager = manager_with(tmp_path, seen=SEEN)
    many = {f"c{i:03d}": i for i in range(200)}
    assert HookData.of(many).keys is None  # more keys than a Lua function takes arguments
    with caplog.at_level(logging.INFO, logger="modulacms.plugins"):
        manager.hooks.before(HookEvent.BEFORE_UPDATE, "content_data", dict(ROW), Actor.system())
        manager.hooks.before(
            HookEvent.BEFORE_UPDATE, "content_data", {**many, "fields": {}}, Actor.system()
        )
    first, second = saw(caplog)
    assert first == expected("before_update")
    assert second == {**many, "fields": {}, "_table": "content_data", "_event": "before_update"}
    manager.shutdown()


def test_a_row_of_plain_values_crosses_without_per_call_conversion(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    flat = {k: v for k, v in ROW.items() if k not in ("fields", "when")}
    assert HookData.of(flat).scalars and not HookData.of(dict(ROW)).scalars
    manager = manager_with(tmp_path, seen=SEEN)
    with caplog.at_level(logging.INFO, logger="modulacms.plugins"):
        manager.hooks.after(HookEvent.AFTER_UPDATE, "content_data", flat, Actor.system())
        assert manager.hooks.wait_idle(5)
    wanted = {k: v for k, v in expected("after_update").items() if k != "fields"}
    assert saw(caplog) == [wanted]
    manager.shutdown()


def test_data_too_large_for_the_vm_blocks_the_write_without_running_the_hook(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    root = tmp_path / "plugins"
    (root / "seen").mkdir(parents=True)
    (root / "seen" / "init.lua").write_text(SEEN)
    limits = SandboxLimits(memory_limit=4 * 1024 * 1024, memory_headroom=1024 * 1024)
    options = RuntimeOptions(max_vms=2, limits=limits)
    manager = PluginManager(root, options, approvals=MemoryApprovals(auto_approve=True))
    manager.load_all()
    huge = {"title": "x" * (6 * 1024 * 1024), "fields": {}}
    assert HookData.of(huge).size > 6 * 1024 * 1024
    with caplog.at_level(logging.INFO, logger="modulacms.plugins"):
        with pytest.raises(ValidationFailed, match='operation blocked by plugin "seen"'):
            manager.hooks.before(HookEvent.BEFORE_UPDATE, "content_data", huge, Actor.system())
    assert saw(caplog) == []
    manager.hooks.before(HookEvent.BEFORE_UPDATE, "content_data", dict(ROW), Actor.system())
    manager.shutdown()


def test_a_vetoing_before_hook_still_aborts_and_counts(tmp_path: Path) -> None:
    manager = manager_with(tmp_path, seen=SEEN)
    with pytest.raises(ValidationFailed, match='operation blocked by plugin "seen"'):
        manager.hooks.before(HookEvent.BEFORE_DELETE, "content_data", {"veto": 1}, Actor.system())
    manager.hooks.before(HookEvent.BEFORE_DELETE, "content_data", {"veto": None}, Actor.system())
    labels = {"plugin": "seen", "event": "before_delete", "table": "content_data"}
    metrics = manager.metrics
    assert metrics.counter("plugin.hook.before", {**labels, "status": "error"}) == 1
    assert metrics.counter("plugin.hook.before", {**labels, "status": "ok"}) == 1
    assert len(metrics.samples("plugin.hook.duration_ms", {**labels, "status": "ok"})) == 1
    manager.shutdown()


def test_a_burst_replaces_a_vm_whose_module_a_hook_rebound(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    manager = manager_with(tmp_path, after=4, rebind=REBIND)
    pool = manager.instances["rebind"].pool
    assert pool is not None
    actor = Actor.system()
    with caplog.at_level(logging.INFO, logger="modulacms.plugins"):
        for n in (1, 2, 3, 4):
            row = {"n": n, "rebind": n == 3}
            manager.hooks.after(HookEvent.AFTER_CREATE, "content_data", row, actor)
        # chains 2-4 run back to back in one burst on one VM until chain 3 rebinds a
        # module: that VM is replaced, chain 4 gets a sound one
        assert manager.hooks.wait_idle(5)
    ran = sorted(m.split(" plugin=")[0] for m in caplog.messages if m.startswith("ran "))
    assert ran == ["ran 1", "ran 2", "ran 4"]  # the rebinding hook failed on its own
    assert pool.replaced == 1 and pool.available == pool.total == 3
    manager.shutdown()


def test_a_slow_chain_in_a_burst_holds_writers_only_briefly(tmp_path: Path) -> None:
    manager = manager_with(tmp_path, timeout=0.4, slow=SLOW)
    actor = Actor.system()
    hooks = manager.hooks
    hooks.after(HookEvent.AFTER_CREATE, "content_data", {"n": 1}, actor)
    hooks.after(HookEvent.AFTER_CREATE, "content_data", {"n": 2, "slow": True}, actor)
    started = time.monotonic()
    # both slots are taken: this writer waits; chain 1 finishes at once, chain 2 loops
    # until its 0.4 s limit, and the writer takes chain 1's slot instead of waiting
    hooks.after(HookEvent.AFTER_CREATE, "content_data", {"n": 3}, actor)
    assert time.monotonic() - started < 0.3
    assert hooks.wait_idle(5)
    metrics = manager.metrics
    assert metrics.counter_total("plugin.hook.after", plugin="slow", status="ok") == 2
    assert metrics.counter_total("plugin.hook.after", plugin="slow", status="timeout") == 1
    assert AFTER_HOOK_SLOT_WAIT < 0.3
    manager.shutdown()


def test_after_hooks_never_exceed_the_concurrency_limit(tmp_path: Path) -> None:
    manager = manager_with(tmp_path, timeout=0.2, slow=SLOW)
    hooks = manager.hooks
    actor = Actor.system()
    peak = [0]
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            with hooks._idle:
                peak[0] = max(peak[0], hooks._pending)
            time.sleep(0.0005)

    watcher = threading.Thread(target=watch)
    watcher.start()
    writers = [
        threading.Thread(
            target=lambda i=i: hooks.after(
                HookEvent.AFTER_CREATE, "content_data", {"n": i, "slow": i == 0}, actor
            )
        )
        for i in range(8)
    ]
    for w in writers:
        w.start()
    for w in writers:
        w.join()
    assert hooks.wait_idle(5)
    stop.set()
    watcher.join()
    assert 1 <= peak[0] <= 2
    assert manager.metrics.counter_total("plugin.hook.after", plugin="slow") == 8
    manager.shutdown()


def test_registry_generation_changes_with_registrations(tmp_path: Path) -> None:
    manager = manager_with(tmp_path, seen=SEEN)
    before = manager.hooks.generation
    manager.hooks.unregister("seen")
    assert manager.hooks.generation != before
    assert manager.hooks.chain("before_update", "content_data") == []
    manager.shutdown()


def test_label_keys_record_the_same_series_as_label_dicts() -> None:
    m = MetricsRegistry()
    labels = {"plugin": "p", "status": "ok", "n": 1}
    key = label_key(labels)
    m.inc("c", labels)
    m.inc_key("c", key)
    m.count_and_observe("c", "h", 3.0, key)
    m.observe_key("h", 7000.0, key)
    m.observe("h", 1.0, labels)
    assert m.counter("c", labels) == 3
    assert m.samples("h", labels) == [3.0, 7000.0, 1.0]
    text = m.render()
    assert 'h_bucket{n="1",plugin="p",status="ok",le="1"} 1' in text
    assert 'h_bucket{n="1",plugin="p",status="ok",le="2.5"} 1' in text
    assert 'h_bucket{n="1",plugin="p",status="ok",le="5"} 2' in text
    assert 'h_bucket{n="1",plugin="p",status="ok",le="5000"} 2' in text
    assert 'h_bucket{n="1",plugin="p",status="ok",le="+Inf"} 3' in text
