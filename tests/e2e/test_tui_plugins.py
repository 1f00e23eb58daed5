"""The Plugins area (F6) on a real project folder with the bundled hello and shop plugins:
what the screen shows, and what the database holds after each key."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Static
from tui_support import pilot_test, settle

from modulacms.app import App, build_app
from modulacms.core.models import Actor, ActorKind
from modulacms.plugin_control import AdminPluginControl, admin_control
from modulacms.tui.app import ModulaApp
from modulacms.tui.modals.confirm import ConfirmModal
from modulacms.tui.modals.help import HelpModal
from modulacms.tui.screens.plugins import (
    PluginDomainsTable,
    PluginHooksTable,
    PluginRoutesTable,
    PluginsScreen,
    PluginsTable,
)

BUNDLED = Path(__file__).resolve().parents[2] / "plugins"
FIXTURES = Path(__file__).resolve().parents[1] / "data" / "plugins"
ACTOR = Actor(ActorKind.SYSTEM, None, "tui:tester", frozenset({"*"}))


@pytest.fixture
def project(tmp_path: Path) -> Iterator[tuple[App, AdminPluginControl, Path]]:
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    for name in ("hello", "shop"):
        shutil.copytree(BUNDLED / name, plugins / name)
    app = build_app(tmp_path / "modulacms.db")
    control = admin_control(plugins, app.db, ACTOR.name, services=app.services)
    yield app, control, plugins
    app.close()


@asynccontextmanager
async def plugins_area(
    control: AdminPluginControl | None, app_: App
) -> AsyncIterator[tuple[ModulaApp, Pilot[Any], PluginsScreen]]:
    app = ModulaApp(app_.services, ACTOR, project_name="test", plugins=control)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await go(pilot, "f6")
        screen = app.screen
        assert isinstance(screen, PluginsScreen)
        yield app, pilot, screen


async def go(pilot: Pilot[Any], *keys: str) -> None:
    await pilot.press(*keys)
    await settle(pilot)


def route_rows(app_: App, plugin: str) -> list[tuple[Any, ...]]:
    return app_.db.execute(
        "SELECT method, path, approved, approved_by FROM plugin_routes WHERE plugin_name = ? "
        "ORDER BY path, method",
        (plugin,),
    )


def hook_rows(app_: App, plugin: str) -> list[tuple[Any, ...]]:
    return app_.db.execute(
        "SELECT event, table_name, approved, approved_by FROM plugin_hooks "
        "WHERE plugin_name = ? ORDER BY event",
        (plugin,),
    )


def status(app_: App, plugin: str) -> str | None:
    value = app_.db.scalar("SELECT status FROM plugins WHERE name = ?", (plugin,))
    return None if value is None else str(value)


def text_of(screen: PluginsScreen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


@pilot_test
async def test_list_then_approve_and_revoke_one_route(project) -> None:
    app_, control, _ = project
    assert status(app_, "hello") is None  # never loaded: no rows yet
    async with plugins_area(control, app_) as (app, pilot, screen):
        assert [p.name for p in screen.plugins] == ["hello", "shop"]
        assert screen.detail is not None and screen.detail.name == "hello"
        # showing the plugin registered it, so its route can be approved
        assert status(app_, "hello") == "installed"
        assert [r.label for r in screen.detail.routes] == ["GET /greet"]
        assert "1 pending" in text_of(screen, "#routes-title")
        assert "Says hello over HTTP" in text_of(screen, "#plugin-info")
        assert route_rows(app_, "hello") == [("GET", "/greet", 0, None)]

        await go(pilot, "enter")
        assert isinstance(app.focused, PluginRoutesTable)
        await go(pilot, "a")
        assert route_rows(app_, "hello") == [("GET", "/greet", 1, "tui:tester")]
        assert screen.detail.routes[0].approved
        assert "pending" not in text_of(screen, "#routes-title")
        assert any("Approved route GET /greet" in n.message for n in app._notifications)

        await go(pilot, "x")
        assert route_rows(app_, "hello") == [("GET", "/greet", 0, None)]
        assert not screen.detail.routes[0].approved


@pilot_test
async def test_approve_all_hooks_and_routes_with_confirmation(project) -> None:
    app_, control, _ = project
    async with plugins_area(control, app_) as (app, pilot, screen):
        await go(pilot, "down")
        assert screen.detail is not None and screen.detail.name == "shop"
        assert len(screen.detail.routes) == 5 and len(screen.detail.hooks) == 2
        assert screen.plugins[1].pending == 7
        screen.query_one(PluginHooksTable).focus()
        await go(pilot, "A")
        modal = app.screen
        assert isinstance(modal, ConfirmModal)
        assert "after_create:content_data" in modal.message
        await go(pilot, "n")  # declined: nothing changes
        assert [row[2] for row in hook_rows(app_, "shop")] == [0, 0]
        await go(pilot, "A", "y")
        assert hook_rows(app_, "shop") == [
            ("after_create", "content_data", 1, "tui:tester"),
            ("after_update", "content_data", 1, "tui:tester"),
        ]
        assert all(h.approved for h in screen.detail.hooks)
        await go(pilot, "X", "y")
        assert [row[2:] for row in hook_rows(app_, "shop")] == [(0, None), (0, None)]

        screen.query_one(PluginRoutesTable).focus()
        await go(pilot, "A", "y")
        assert [row[2] for row in route_rows(app_, "shop")] == [1] * 5
        assert screen.plugins[1].pending == 2  # the revoked hooks
        assert route_rows(app_, "hello") == [("GET", "/greet", 0, None)]


@pilot_test
async def test_outbound_domains_are_approved_one_or_all(project) -> None:
    app_, control, plugins = project
    shutil.copytree(FIXTURES / "outbound_plugin", plugins / "outbound_plugin")

    def domains() -> list[tuple[Any, ...]]:
        return app_.db.execute(
            "SELECT domain, approved, approved_by FROM plugin_requests "
            "WHERE plugin_name = 'outbound_plugin' ORDER BY domain"
        )

    async with plugins_area(control, app_) as (app, pilot, screen):
        await go(pilot, "down")
        assert screen.detail is not None and screen.detail.name == "outbound_plugin"
        table = screen.query_one(PluginDomainsTable)
        assert table.display and table.row_count == 3
        assert "3 pending" in text_of(screen, "#domains-title")
        await go(pilot, "enter")  # no routes or hooks: the domains get the focus
        assert app.focused is table
        await go(pilot, "a")
        assert domains()[0] == ("10.0.0.1", 1, "tui:tester")
        await go(pilot, "A", "y")
        assert [row[1] for row in domains()] == [1, 1, 1]
        await go(pilot, "escape", "up")  # hello has no domains: the table hides
        assert not table.display


@pilot_test
async def test_disable_enable_and_reload(project) -> None:
    app_, control, _ = project
    async with plugins_area(control, app_) as (app, pilot, screen):
        await go(pilot, "e")
        assert isinstance(app.screen, ConfirmModal)
        await go(pilot, "y")
        assert status(app_, "hello") == "disabled"
        assert not screen.plugins[0].enabled
        assert "disabled" in text_of(screen, "#plugin-info")
        await go(pilot, "e")  # enabling asks nothing
        assert status(app_, "hello") == "enabled"
        assert screen.plugins[0].enabled

        before = app_.db.scalar("SELECT date_modified FROM plugins WHERE name = 'hello'")
        await go(pilot, "r")
        after = app_.db.scalar("SELECT date_modified FROM plugins WHERE name = 'hello'")
        assert after > before  # the running server's cue to reload
        assert any("Reloaded hello" in n.message for n in app._notifications)


@pilot_test
async def test_broken_plugin_is_listed_with_its_error(project) -> None:
    app_, control, plugins = project
    (plugins / "broken").mkdir()
    (plugins / "broken" / "init.lua").write_text("plugin_info = {", encoding="utf-8")
    async with plugins_area(control, app_) as (app, pilot, screen):
        assert [p.name for p in screen.plugins] == ["broken", "hello", "shop"]
        broken = screen.plugins[0]
        assert not broken.valid and "syntax" in (broken.last_error or "")
        assert "Last error: Lua syntax error" in text_of(screen, "#plugin-info")
        assert not screen.check_action("toggle_enabled", ())
        await go(pilot, "r")  # still broken: the error is shown, nothing is written
        assert any(n.severity == "error" for n in app._notifications)
        assert status(app_, "broken") is None
        # fixed on disk, a reload finds it
        shutil.rmtree(plugins / "broken")
        shutil.copytree(BUNDLED / "hello", plugins / "broken")
        text = (plugins / "broken" / "init.lua").read_text(encoding="utf-8")
        text = text.replace('name = "hello"', 'name = "broken"')
        (plugins / "broken" / "init.lua").write_text(text, encoding="utf-8")
        await go(pilot, "r")
        assert screen.plugins[0].valid and status(app_, "broken") == "installed"
        assert isinstance(app.focused, PluginsTable)


@pilot_test
async def test_help_lists_the_plugin_keys(project) -> None:
    app_, control, _ = project
    async with plugins_area(control, app_) as (app, pilot, _screen):
        await go(pilot, "f1")
        modal = app.screen
        assert isinstance(modal, HelpModal)
        described = {(i.section, i.description) for i in modal.items}
        assert ("Plugins area", "Enable/disable") in described
        assert ("Plugin routes table", "Approve all") in described
        assert ("Plugin hooks table", "Revoke") in described


@pilot_test
async def test_switched_off_plugins_say_how_to_switch_them_on(project) -> None:
    app_, _, _ = project
    async with plugins_area(None, app_) as (_app, _pilot, screen):
        assert "enabled = true" in text_of(screen, "#plugins-off")
        assert not screen.check_action("reload", ())
        assert screen.check_action("area", ())


def test_the_lazy_control_imports_the_runtime_only_when_used(tmp_path: Path) -> None:
    script = f"""
import sys
from pathlib import Path
from modulacms.app import build_app
from modulacms.config import load_settings
from modulacms.plugin_control import lazy_control
app = build_app(Path({str(tmp_path)!r}) / "m.db")
control = lazy_control(load_settings(Path({str(tmp_path)!r})), app.db, "tui:x")
assert "lupa" not in sys.modules, "imported too early"
assert control.plugins() == []
assert "lupa" in sys.modules
"""
    # run from the project root, whatever directory an earlier test left us in
    root = BUNDLED.parent
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=root, check=False
    )
    assert done.returncode == 0, done.stderr


@pilot_test
async def test_breaker_state_and_last_error_recorded_by_a_server_are_shown(project) -> None:
    from modulacms.plugin_runtime.approvals import ApprovalStore

    app_, control, _ = project
    async with plugins_area(control, app_) as (app, pilot, screen):
        assert "not recorded (no server has run it yet)" in text_of(screen, "#plugin-info")
    # what a running server writes when hello's handler keeps failing
    ApprovalStore(app_.db).record_health("hello", "open", "attempt to index a nil value")
    async with plugins_area(control, app_) as (app, pilot, screen):
        info = text_of(screen, "#plugin-info")
        assert "Breaker: open since" in info
        assert "attempt to index a nil value" in info
