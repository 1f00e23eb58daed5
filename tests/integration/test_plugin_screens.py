"""Plugin TUI screens (spec §9.4) on real lupa and a real SQLite file: the event/yield
protocol, actions, fetch and request, the limits, and hostile screens."""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from modulacms.app import App, build_app
from modulacms.core.plugin_screens import (
    Commit,
    Confirm,
    DataEvent,
    Detail,
    DialogEvent,
    Fetch,
    FocusEvent,
    Grid,
    KeyEvent,
    ListView,
    Navigate,
    PluginScreenError,
    Quit,
    Request,
    ResizeEvent,
    Table,
    TextBlock,
    Toast,
    Tree,
)
from modulacms.errors import NotFound, PluginError, PluginLoadError
from modulacms.plugin_control import admin_control
from modulacms.plugin_runtime.approvals import ApprovalStore
from modulacms.plugin_runtime.options import MIB, RuntimeOptions, SandboxLimits
from modulacms.plugin_runtime.screens import ScreenHost, ScreenRun

FIXTURES = Path(__file__).resolve().parents[1] / "data" / "plugins"
PLUGIN = "screens_plugin"


class Pong(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps({"pong": True, "path": self.path}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Pong)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/ping"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def project(tmp_path: Path) -> Iterator[tuple[App, Path]]:
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    shutil.copytree(FIXTURES / PLUGIN, plugins / PLUGIN)
    app = build_app(tmp_path / "modulacms.db")
    yield app, plugins
    app.close()


OPTIONS = RuntimeOptions(
    timeout=0.5,
    request_allow_local=True,
    request_rate_limit=6000,
    limits=replace(SandboxLimits(), memory_limit=16 * MIB),
)


@pytest.fixture
def host(project: tuple[App, Path]) -> Iterator[ScreenHost]:
    app, plugins = project
    screens = ScreenHost(plugins, app.db, app.services, OPTIONS)
    yield screens
    screens.close()


def fields(value: object) -> dict[str, str]:
    """The echo screen's event fields, by label."""
    assert isinstance(value, Grid)
    detail = value.columns[0].cells[0].content
    assert isinstance(detail, Detail)
    return {f.label: f.value for f in detail.fields}


# -- protocol -----------------------------------------------------------------------------


def test_init_event_and_layout(host: ScreenHost) -> None:
    run = host.open(PLUGIN, "main", 100, 30, {"url": "x", "mode": "edit"})
    got = fields(run.initial)
    assert got == {
        "type": "init",
        "protocol_version": "1",
        "width": "100",
        "height": "30",
        "params.url": "x",
        "params.mode": "edit",
    }
    grid = run.initial
    assert isinstance(grid, Grid)
    assert [c.span for c in grid.columns] == [8, 4]
    assert grid.columns[0].cells[0].title == "Event"
    assert grid.columns[0].cells[0].height == 2
    assert grid.hints[0].key == "q"
    note = grid.columns[1].cells[0].content
    assert isinstance(note, TextBlock) and note.lines[0].text == "started"
    assert run.info.label == "Main screen"
    run.close()


def test_init_without_params_has_no_params_table(host: ScreenHost) -> None:
    run = host.open(PLUGIN, "main", 80, 24)
    assert "params" not in "".join(fields(run.initial))
    run.close()


def test_key_resize_focus_dialog_events(host: ScreenHost) -> None:
    run = host.open(PLUGIN, "main", 80, 24)
    assert fields(run.send(KeyEvent("down"))) == {"type": "key", "key": "down"}
    assert fields(run.send(ResizeEvent(120, 40))) == {
        "type": "resize",
        "width": "120",
        "height": "40",
    }
    assert fields(run.send(FocusEvent(1))) == {"type": "focus", "panel": "1"}
    assert run.send(KeyEvent("c")) == Confirm("Sure?", "Really?")
    assert fields(run.send(DialogEvent(True))) == {"type": "dialog", "accepted": "true"}
    assert fields(run.send(DialogEvent(False)))["accepted"] == "false"
    run.close()


def test_toast_navigate_and_return(host: ScreenHost) -> None:
    run = host.open(PLUGIN, "main", 80, 24)
    assert run.send(KeyEvent("t")) == Toast("hello toast", "warning")
    nav = run.send(KeyEvent("n"))
    assert nav == Navigate("hidden_one", PLUGIN, (("from", "main"), ("n", "3")))
    assert isinstance(nav, Navigate)
    other = host.open(nav.plugin, nav.screen, 80, 24, nav.params_dict)
    assert other.info.hidden
    listing = other.initial
    assert isinstance(listing, ListView)
    assert [i.label for i in listing.items] == ["from=main", "n=3"]
    assert other.send(KeyEvent("x")) == Quit()  # screen(ctx) returned
    assert other.closed
    assert run.send(KeyEvent("q")) == Quit()
    assert run.closed
    with pytest.raises(PluginScreenError, match="closed"):
        run.send(KeyEvent("q"))


def test_commit_closes_the_session(host: ScreenHost) -> None:
    run = host.open(PLUGIN, "main", 80, 24)
    assert run.send(KeyEvent("m")) == Commit("chosen")
    assert run.closed


def test_request_to_approved_domain(
    host: ScreenHost, project: tuple[App, Path], server: str
) -> None:
    app, _ = project
    run = host.open(PLUGIN, "main", 80, 24, {"url": server})
    action = run.send(KeyEvent("r"))
    assert action == Request("ping", server)
    assert isinstance(action, Request)
    refused = run.perform(action)
    assert refused == DataEvent("ping", False, error="domain not approved: 127.0.0.1")
    shown = fields(run.send(refused))
    assert shown["ok"] == "false" and shown["error"] == "domain not approved: 127.0.0.1"
    ApprovalStore(app.db).set_domain(PLUGIN, "127.0.0.1", True, "test")
    answer = run.perform(action)
    assert answer.ok
    shown = fields(run.send(answer))
    assert shown["type"] == "data" and shown["id"] == "ping" and shown["ok"] == "true"
    assert shown["result.status"] == "200"
    assert shown["result.json.pong"] == "true"
    run.close()


def test_fetch_reads_the_plugins_table(host: ScreenHost) -> None:
    run = host.open(PLUGIN, "main", 80, 24)
    run.send(KeyEvent("w"))
    action = run.send(KeyEvent("f"))
    assert isinstance(action, Fetch) and action.table == "notes"
    answer = run.perform(action)
    assert answer.ok and isinstance(answer.result, list)
    assert [row["body"] for row in answer.result] == ["from screen"]
    shown = fields(run.send(answer))
    assert shown["result.1.body"] == "from screen"
    bad = run.perform(Fetch("x", "no_such_table"))
    assert not bad.ok and bad.error
    run.close()


def test_vm_is_held_while_open_and_returned_on_close(host: ScreenHost) -> None:
    pool = host.instance(PLUGIN).pool
    assert pool is not None
    before = pool.available
    runs = [host.open(PLUGIN, "main", 80, 24) for _ in range(before - 1)]
    assert pool.available == 1  # the reserved VM stays for hooks
    with pytest.raises(PluginError, match="no free VM"):
        host.open(PLUGIN, "main", 80, 24)
    for run in runs:
        run.close()
        run.close()  # idempotent
    assert pool.available == before


# -- refusals -----------------------------------------------------------------------------


def test_unknown_screen_and_plugin(host: ScreenHost) -> None:
    with pytest.raises(NotFound, match="screens/nope.lua"):
        host.open(PLUGIN, "nope", 80, 24)
    with pytest.raises(NotFound):
        host.open(PLUGIN, "../init", 80, 24)
    with pytest.raises(NotFound):
        host.open("ghost", "main", 80, 24)
    pool = host.instance(PLUGIN).pool
    assert pool is not None and pool.busy == 0


def test_disabled_and_invalid_plugins_are_refused(project: tuple[App, Path]) -> None:
    app, plugins = project
    shutil.copytree(FIXTURES / "invalid_bad_name", plugins / "invalid_bad_name")
    control = admin_control(plugins, app.db, "tui:test", services=app.services)
    try:
        control.set_enabled(PLUGIN, False)
        with pytest.raises(PluginLoadError, match="disabled"):
            control.open_screen(PLUGIN, "main", 80, 24)
        with pytest.raises(PluginLoadError, match="invalid"):
            control.open_screen("invalid_bad_name", "main", 80, 24)
        listed = {p.name: p for p in control.plugins()}
        assert [s.name for s in listed[PLUGIN].visible_screens] == ["main", "limits", "hostile"]
        assert [s.path for s in control.screens(PLUGIN)][1] == "screens_plugin/hidden_one"
    finally:
        control.close()


def test_reload_and_disable_reach_a_terminal_admin_that_already_runs_the_plugin(
    project: tuple[App, Path],
) -> None:
    app, plugins = project
    control = admin_control(plugins, app.db, "tui:test", services=app.services)
    try:
        control.open_screen(PLUGIN, "main", 80, 24).close()
        host = control._screen_host()
        assert host.instance(PLUGIN).version == "1.0.0"
        init = plugins / PLUGIN / "init.lua"
        source = init.read_text()
        init.write_text(source.replace('version = "1.0.0"', 'version = "1.1.0"'))
        control.reload(PLUGIN)
        assert host.instance(PLUGIN).version == "1.1.0"
        control.open_screen(PLUGIN, "main", 80, 24).close()

        # a broken edit is refused and the running version stays
        init.write_text(source.replace("plugin_info = {", "plugin_info = {{"))
        with pytest.raises(PluginLoadError):
            control.reload(PLUGIN)
        assert host.instance(PLUGIN).version == "1.1.0"

        control.set_enabled(PLUGIN, False)
        with pytest.raises(PluginLoadError, match="disabled"):
            control.open_screen(PLUGIN, "main", 80, 24)
    finally:
        control.close()


# -- limits -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("rows", "rows has 10001 entries \\(max 10000\\)"),
        ("long", "longer than 10240 bytes"),
        ("deep", "deeper than 20 levels"),
        ("cols", "grid has 13 columns \\(max 12\\)"),
    ],
)
def test_limits_are_errors_naming_plugin_and_screen(
    host: ScreenHost, case: str, message: str
) -> None:
    with pytest.raises(PluginScreenError, match=message) as caught:
        host.open(PLUGIN, "limits", 80, 24, {"case": case})
    assert 'plugin "screens_plugin" screen "limits"' in caught.value.message


def test_values_at_the_limits_pass(host: ScreenHost) -> None:
    def first(case: str) -> object:
        run = host.open(PLUGIN, "limits", 80, 24, {"case": case})
        run.close()
        return run.initial

    table = first("rows_ok")
    assert isinstance(table, Table) and len(table.rows) == 10000
    assert table.rows[-1] == ("row 10000", "10000")
    text = first("long_ok")
    assert isinstance(text, TextBlock) and len(text.lines[0].text) == 10240
    tree = first("deep_ok")
    assert isinstance(tree, Tree)
    depth, nodes = 0, tree.nodes
    while nodes:
        depth, nodes = depth + 1, nodes[0].children
    assert depth == 20
    grid = first("cols_ok")
    assert isinstance(grid, Grid) and len(grid.columns) == 12


# -- hostile screens ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("loop", "stopped in .*: plugin execution timed out"),
        ("pcall_loop", "timed out"),
        ("memory", "not enough memory"),
        ("error", "kaboom"),
        ("function", "yielded a function value"),
        # lupa hands a coroutine that never ran over as its function
        ("thread", "yielded a (thread|function) value"),
        ("number", "yielded an invalid value: yielded a scalar"),
        ("unknown", 'unknown type "bogus"'),
        ("action", 'unknown action "explode"'),
        ("cycle", "nested too deeply"),
    ],
)
def test_hostile_screens_are_contained(host: ScreenHost, case: str, message: str) -> None:
    instance = host.instance(PLUGIN)
    pool = instance.pool
    assert pool is not None
    for later in (True, False):
        params = {"case": case, **({"later": "1"} if later else {})}
        if later:
            run = host.open(PLUGIN, "hostile", 80, 24, params)
            with pytest.raises(PluginScreenError, match=message):
                run.send(KeyEvent("x"))
            assert run.closed
        else:
            with pytest.raises(PluginScreenError, match=message):
                host.open(PLUGIN, "hostile", 80, 24, params)
    # counted like a failing HTTP handler (the first yield of the "later" run was a
    # success, which resets the count, so both failures are consecutive)
    assert instance.breaker.failures == 2
    assert pool.busy == 0
    # the plugin's other work goes on: another screen runs and writes
    run = host.open(PLUGIN, "main", 80, 24)
    assert fields(run.send(KeyEvent("w")))["key"] == "w"
    assert run.send(KeyEvent("q")) == Quit()
    assert pool.available == pool.total


def test_an_error_in_a_key_handler_ends_the_session(host: ScreenHost) -> None:
    run = host.open(PLUGIN, "main", 80, 24)
    with pytest.raises(PluginScreenError, match='screen "main" failed in the key event: .*boom'):
        run.send(KeyEvent("e"))
    assert run.closed


def test_inner_coroutines_do_not_confuse_the_protocol(host: ScreenHost) -> None:
    run = host.open(PLUGIN, "hostile", 80, 24, {"case": "nested_yield"})
    assert isinstance(run.initial, TextBlock) and run.initial.lines[0].text == "fine"
    run.close()


def test_close_shuts_everything_down(project: tuple[App, Path]) -> None:
    app, plugins = project
    screens = ScreenHost(plugins, app.db, app.services, OPTIONS)
    run = screens.open(PLUGIN, "main", 80, 24)
    assert isinstance(run, ScreenRun)
    screens.close()
    assert run.closed
    with pytest.raises(PluginError, match="shut down"):
        screens.open(PLUGIN, "main", 80, 24)
