"""The read hooks the runtime offers the delivery endpoint (``RuntimeHooks.reads``):
approval gating, answers, state, header checks and failure handling, on a real runtime
with the ``read_hooks_plugin`` and ``read_hooks_faulty`` fixtures (no HTTP here; the
server side is in ``tests/e2e/test_http_read_hooks.py``)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from plugin_helpers import PLUGINS

from modulacms.app import App, build_app
from modulacms.core.events import NullDispatcher, ReadAnswer, ReadRequest
from modulacms.plugin_runtime.options import RuntimeOptions
from modulacms.plugin_runtime.read_hooks import DeliveryReadHooks, RuntimeHooks, checked_headers
from modulacms.plugin_runtime.runtime import PluginRuntime


@pytest.fixture
def loaded(tmp_path: Path) -> Iterator[tuple[App, PluginRuntime]]:
    app = build_app(tmp_path / "site.db")
    plugins = tmp_path / "plugins"
    for name in ("read_hooks_plugin", "read_hooks_faulty"):
        shutil.copytree(PLUGINS / name, plugins / name)
    options = RuntimeOptions(max_vms=2, sync_interval=0, hook_timeout_ms=200)
    runtime = PluginRuntime(app.db, app.services, plugins, options).start()
    try:
        yield app, runtime
    finally:
        runtime.close()
        app.close()


def approve(runtime: PluginRuntime, plugin: str) -> None:
    for event in ("before_read", "after_read"):
        runtime.approvals.set_hook(plugin, event, "content_data", True, "test")
    runtime.manager.refresh_approvals(force=True)


def request(**query: str) -> ReadRequest:
    return ReadRequest("/about", {"x-reader": "bob"}, "10.0.0.7", query)


def reads_of(app: App) -> DeliveryReadHooks:
    dispatcher = app.services.content.hooks
    assert isinstance(dispatcher, RuntimeHooks)
    return dispatcher.reads


def test_the_runtime_offers_read_hooks_only_while_it_runs(loaded) -> None:  # type: ignore[no-untyped-def]
    app, runtime = loaded
    reads = reads_of(app)
    assert not reads.active()  # registered but not approved
    approve(runtime, "read_hooks_plugin")
    assert reads.active()
    runtime.close()
    assert isinstance(app.services.content.hooks, NullDispatcher)
    assert app.services.content.hooks.reads is None


def test_before_read_answers_with_checked_headers(loaded) -> None:  # type: ignore[no-untyped-def]
    app, runtime = loaded
    approve(runtime, "read_hooks_plugin")
    answer, state = reads_of(app).before_read(request(gate="deny"))
    assert state is None
    assert answer == ReadAnswer(
        403,
        (("X-Denied-By", "read_hooks_plugin"),),
        {"error": "members only", "slug": "/about", "ip": "10.0.0.7"},
    )
    moved, _ = reads_of(app).before_read(request(gate="moved"))
    assert moved == ReadAnswer(302, (("Location", "/api/v1/content/tree"),), None)
    bogus, state = reads_of(app).before_read(request(gate="bogus"))
    assert bogus is None and state is None


def test_state_flows_from_before_read_to_after_read(loaded) -> None:  # type: ignore[no-untyped-def]
    app, runtime = loaded
    approve(runtime, "read_hooks_plugin")
    reads = reads_of(app)
    answer, state = reads.before_read(request())
    assert answer is None and state is not None
    assert state["_mark"] == "seen /about by bob"
    headers = dict(reads.after_read(request(), state))
    assert headers == {
        "Cache-Control": "private, max-age=5",
        "X-Read-Count": "1",
        "X-Read-Mark": "seen /about by bob",
    }  # the forged ETag was dropped
    assert dict(reads.after_read(request(), None))["X-Read-Mark"] == "no mark"


def test_failing_hooks_are_skipped_and_counted(loaded) -> None:  # type: ignore[no-untyped-def]
    app, runtime = loaded
    approve(runtime, "read_hooks_plugin")
    approve(runtime, "read_hooks_faulty")
    reads = reads_of(app)
    for fault in ("error", "loop"):
        failing = request(fault=fault, after=fault)
        answer, state = reads.before_read(failing)
        assert answer is None and state is not None
        assert state["_mark"] == "seen /about by bob" and "_faulty" not in state
        headers = dict(reads.after_read(failing, state))
        assert "X-Faulty" not in headers and headers["X-Read-Mark"] == "seen /about by bob"
    failures = runtime.manager.hooks.breaker
    assert not failures.disabled("read_hooks_faulty:before_read:content_data")
    rows = {
        (labels["event"], labels["status"]): value
        for name, _, labels, value in runtime.metric_rows()
        if name == "plugin_hook_before_total" and labels.get("plugin") == "read_hooks_faulty"
    }
    assert rows[("before_read", "error")] == 1 and rows[("before_read", "timeout")] == 1


@pytest.mark.parametrize(
    ("name", "value", "kept"),
    [
        ("X-Custom", "ok", True),
        ("Cache-Control", "private", True),
        ("Vary", "Cookie", True),
        ("ETag", '"x"', False),
        ("content-type", "text/html", False),
        ("Content-Length", "1", False),
        ("Set-Cookie", "a=b", False),
        ("Access-Control-Allow-Origin", "*", False),
        ("X-Frame-Options", "ALLOW", False),
        ("Bad Name", "x", False),
        ("X-Split", "a\r\nInjected: 1", False),
        ("X-Nul", "a\x00b", False),
        ("X-Long", "x" * 9000, False),
        ("", "x", False),
    ],
)
def test_header_checks(name: str, value: str, kept: bool) -> None:
    assert checked_headers([(name, value)], "after_read") == ([(name, value)] if kept else [])
