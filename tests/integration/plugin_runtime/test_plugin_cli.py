"""``modulacms plugin ...`` on a real project, with and without a running runtime."""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from plugin_helpers import PLUGINS

from modulacms.app import build_app
from modulacms.cli import cli
from modulacms.plugin_runtime.bridge import BridgeRequest
from modulacms.plugin_runtime.instance import PluginState
from modulacms.plugin_runtime.options import RuntimeOptions
from modulacms.plugin_runtime.runtime import PluginRuntime

ADMIN = ["--admin-email", "admin@example.com", "--admin-password", "S3cret-pass"]
CLEAN = {k: None for k in os.environ if k.startswith("MODULACMS_")}


def run(project: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--project", str(project), *args], env=CLEAN)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "site"
    result = CliRunner().invoke(cli, ["init", str(root), *ADMIN], env=CLEAN)
    assert result.exit_code == 0, result.output
    for name in ("http_public_plugin", "hooks_plugin", "invalid_bad_name"):
        shutil.copytree(PLUGINS / name, root / "plugins" / name)
    return root


def test_list_validate_info(project: Path) -> None:
    result = run(project, "plugin", "list", "--json")
    assert result.exit_code == 0, result.output
    listed = {p["name"]: p["valid"] for p in json.loads(result.stdout)}
    assert listed["http_public_plugin"] is True and listed["invalid_bad_name"] is False
    result = run(project, "plugin", "validate", str(project / "plugins" / "hooks_plugin"))
    assert result.exit_code == 0
    assert 'plugin "hooks_plugin" v1.0.0 is valid.' in result.stdout
    result = run(project, "plugin", "validate", str(project / "plugins" / "invalid_bad_name"))
    assert result.exit_code == 1
    assert "ERROR   [manifest]" in result.output and "Validation failed." in result.output
    result = run(project, "plugin", "info", "http_public_plugin", "--json")
    assert result.exit_code == 0 and json.loads(result.stdout)["version"] == "1.0.0"
    result = run(project, "plugin", "info", "nope")
    assert result.exit_code == 1


def test_list_shows_status_pending_approvals_and_the_recorded_breaker(project: Path) -> None:
    from modulacms.plugin_runtime.approvals import ApprovalStore

    listed = {p["name"]: p for p in json.loads(run(project, "plugin", "list", "--json").stdout)}
    assert listed["hooks_plugin"]["status"] == "new"  # nothing has loaded it yet
    assert listed["invalid_bad_name"]["status"] == "invalid"
    assert listed["invalid_bad_name"]["error"]
    assert run(project, "plugin", "reload", "http_public_plugin").exit_code == 0
    app = build_app(project / "modulacms.db")
    try:
        ApprovalStore(app.db).record_health("http_public_plugin", "open", "boom at line 3")
    finally:
        app.close()
    entry = {p["name"]: p for p in json.loads(run(project, "plugin", "list", "--json").stdout)}[
        "http_public_plugin"
    ]
    assert entry["status"] == "enabled" and entry["pending"] >= 1
    assert entry["breaker"].startswith("open since ") and entry["error"] == "boom at line 3"
    table = run(project, "plugin", "list")
    assert table.exit_code == 0
    assert "pending" in table.stdout and "breaker" in table.stdout
    assert "http_public_plugin: last error: boom at line 3" in table.stdout


def test_init_scaffolds_a_plugin_whose_tests_pass(project: Path) -> None:
    result = run(project, "plugin", "init", "greeter", "--description", "Says hello")
    assert result.exit_code == 0, result.output
    target = project / "plugins" / "greeter"
    assert (target / "init.lua").is_file() and (target / "test" / "hello.test.lua").is_file()
    assert run(project, "plugin", "validate", str(target)).exit_code == 0
    result = run(project, "plugin", "test", str(target))
    assert result.exit_code == 0, result.output
    assert "2 passed, 0 failed" in result.output
    # inside a project a plugin can be named instead of its directory
    assert run(project, "plugin", "validate", "greeter").exit_code == 0
    result = run(project, "plugin", "test", "greeter")
    assert result.exit_code == 0 and "2 passed, 0 failed" in result.output
    result = run(project, "plugin", "test", "no_such_plugin")
    assert result.exit_code == 2 and "no_such_plugin is not a directory" in result.output
    assert run(project, "plugin", "init", "greeter", "--description", "x").exit_code != 0
    assert run(project, "plugin", "init", "Bad-Name", "--description", "x").exit_code != 0


def test_plugin_test_exit_codes(project: Path) -> None:
    harness = PLUGINS / "harness_plugin"
    result = run(project, "plugin", "test", str(harness), "--filter", "http")
    assert result.exit_code == 0 and "3 passed, 0 failed" in result.output
    result = run(project, "plugin", "test", str(harness))
    assert result.exit_code == 1 and "12 passed, 3 failed" in result.output
    assert "FAIL: numbers: expected 1, got 2 (failures.test.lua:2)" in result.output
    result = run(project, "plugin", "test", str(harness), "--json", "--filter", "savepoint")
    line = json.loads(result.stdout.strip())
    assert line["file"] == "basic.test.lua" and line["passed"] is True
    result = run(project, "plugin", "test", str(PLUGINS / "no_tests_plugin"))
    assert result.exit_code == 2 and "no test/ directory" in result.output


def test_approvals_work_without_a_server(project: Path) -> None:
    result = run(project, "plugin", "approve", "http_public_plugin", "--all-routes", "--yes")
    assert result.exit_code == 0, result.output
    assert 'Approved 2 route(s) for plugin "http_public_plugin".' in result.stdout
    result = run(project, "plugin", "approve", "http_public_plugin", "--all-routes")
    assert 'no pending routes for "http_public_plugin".' in result.stdout
    result = run(project, "plugin", "revoke", "http_public_plugin", "--route", "get /status")
    assert result.exit_code == 0 and "Revoked 1 route(s)" in result.stdout
    result = run(project, "plugin", "approve", "http_public_plugin", "--route", "GET /missing")
    assert result.exit_code == 1 and "not found" in result.output
    result = run(project, "plugin", "approve", "hooks_plugin", "--all-hooks", "--yes")
    assert 'Approved 2 hook(s) for plugin "hooks_plugin".' in result.stdout
    result = run(project, "plugin", "revoke", "hooks_plugin", "--all-hooks", "--yes")
    assert 'Revoked 2 hook(s) for plugin "hooks_plugin".' in result.stdout
    result = run(project, "plugin", "info", "http_public_plugin", "--json")
    routes = {(r["method"], r["path"]): r["approved"] for r in json.loads(result.stdout)["routes"]}
    assert routes == {("POST", "/webhook"): True, ("GET", "/status"): False}
    assert run(project, "plugin", "approve", "http_public_plugin").exit_code == 2


@pytest.fixture
def runtime(project: Path) -> Iterator[PluginRuntime]:
    app = build_app(project / "modulacms.db")
    rt = PluginRuntime(
        app.db,
        app.services,
        project / "plugins",
        RuntimeOptions(max_vms=1, sync_interval=0.2),
    )
    rt.start()
    yield rt
    rt.close()
    app.close()


def eventually(check: Callable[[], bool], seconds: float = 2.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if check():
            return True
        time.sleep(0.05)
    return False


def status(rt: PluginRuntime, path: str) -> int:
    request = BridgeRequest("GET", "/api/v1/plugins" + path, client_ip="127.0.0.1")
    return rt.bridge.handle(request).status


def test_a_running_server_applies_cli_changes_within_two_seconds(
    project: Path, runtime: PluginRuntime
) -> None:
    assert status(runtime, "/http_public_plugin/status") == 404
    started = time.monotonic()
    assert (
        run(project, "plugin", "approve", "http_public_plugin", "--all-routes", "--yes").exit_code
        == 0
    )
    assert eventually(lambda: status(runtime, "/http_public_plugin/status") == 200)
    assert time.monotonic() - started < 2.0 + 1.0  # CLI start-up included
    assert run(project, "plugin", "disable", "http_public_plugin").exit_code == 0
    manager = runtime.manager
    assert eventually(lambda: manager.instances["http_public_plugin"].state is PluginState.STOPPED)
    assert status(runtime, "/http_public_plugin/status") == 503
    assert run(project, "plugin", "enable", "http_public_plugin").exit_code == 0
    assert eventually(lambda: status(runtime, "/http_public_plugin/status") == 200)
    before = manager.instances["http_public_plugin"]
    assert run(project, "plugin", "reload", "http_public_plugin").exit_code == 0
    assert eventually(lambda: manager.instances["http_public_plugin"] is not before)
    assert status(runtime, "/http_public_plugin/status") == 200  # approvals survive reloads


def test_info_shows_the_health_a_server_recorded(project: Path) -> None:
    from modulacms.plugin_runtime.approvals import ApprovalStore

    assert run(project, "plugin", "info", "http_public_plugin").exit_code == 0
    with build_app(project / "modulacms.db") as app:
        ApprovalStore(app.db).register_plugin("http_public_plugin", "1.0.0", "", "", {})
        ApprovalStore(app.db).record_health("http_public_plugin", "open", "boom in handler")
    result = run(project, "plugin", "info", "http_public_plugin")
    assert result.exit_code == 0
    assert "Breaker:      open since" in result.stdout
    assert "Last error:   boom in handler" in result.stdout
    data = json.loads(run(project, "plugin", "info", "http_public_plugin", "--json").stdout)
    assert data["breaker_state"] == "open" and data["last_error"] == "boom in handler"


def test_a_plugin_whose_code_broke_can_still_be_disabled(project: Path) -> None:
    assert run(project, "plugin", "reload", "http_public_plugin").exit_code == 0  # registered
    init = project / "plugins" / "http_public_plugin" / "init.lua"
    good = init.read_text()
    init.write_text("plugin_info = {{ broken\n")
    result = run(project, "plugin", "disable", "http_public_plugin")
    assert result.exit_code == 0, result.output

    def state() -> str:
        listed = json.loads(run(project, "plugin", "list", "--json").output)
        return str({p["name"]: p["status"] for p in listed}["http_public_plugin"])

    assert state() == "invalid"
    enabling = run(project, "plugin", "enable", "http_public_plugin")
    assert enabling.exit_code == 1 and "syntax" in enabling.output
    assert "Traceback" not in enabling.output
    init.write_text(good)
    assert state() == "disabled"  # the disable held while the code was broken
    assert run(project, "plugin", "enable", "http_public_plugin").exit_code == 0
    assert state() == "enabled"
