"""Plugin screens in the terminal admin: opened from the Plugins area and the palette,
driven by keys under Pilot, with real plugins, real lupa and a real SQLite file."""

from __future__ import annotations

import shutil
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
from modulacms.core.plugin_screens import Detail, Grid, Table, TextBlock
from modulacms.db.plugin_store import PluginStore
from modulacms.plugin_control import AdminPluginControl
from modulacms.plugin_runtime.admin import PluginAdmin
from modulacms.plugin_runtime.options import RuntimeOptions
from modulacms.tui.app import ModulaApp
from modulacms.tui.modals.confirm import ConfirmModal
from modulacms.tui.screens.plugin_screen import PluginScreen
from modulacms.tui.screens.plugins import PluginScreensTable, PluginsScreen, PluginsTable
from modulacms.tui.widgets.plugin_screen.grid import PluginCell
from modulacms.tui.widgets.plugin_screen.keys import screen_key

BUNDLED = Path(__file__).resolve().parents[2] / "plugins"
FIXTURES = Path(__file__).resolve().parents[1] / "data" / "plugins"
ACTOR = Actor(ActorKind.SYSTEM, None, "tui:tester", frozenset({"*"}))
PRODUCTS = [("Glue", "GLU-1", 4.0, 0), ("Hammer", "HAM-1", 12.5, 3), ("Saw", "SAW-1", 25.0, 1)]


@pytest.fixture
def project(tmp_path: Path) -> Iterator[tuple[App, AdminPluginControl]]:
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    for name in ("hello", "shop"):
        shutil.copytree(BUNDLED / name, plugins / name)
    shutil.copytree(FIXTURES / "looping_screen", plugins / "looping_screen")
    app = build_app(tmp_path / "modulacms.db")
    admin = PluginAdmin(plugins, app.db, app.services, RuntimeOptions(timeout=0.5))
    control = AdminPluginControl(admin, ACTOR.name)
    control.detail("shop")  # registers the plugin; its on_init creates the tables
    store = PluginStore(app.db)
    for name, sku, price, stock in PRODUCTS:
        store.insert("shop", "products", {"name": name, "sku": sku, "price": price, "stock": stock})
    yield app, control
    control.close()
    app.close()


@asynccontextmanager
async def plugins_area(
    control: AdminPluginControl, app_: App
) -> AsyncIterator[tuple[ModulaApp, Pilot[Any], PluginsScreen]]:
    app = ModulaApp(app_.services, ACTOR, project_name="test", plugins=control)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await go(pilot, "f6")
        screen = app.screen
        assert isinstance(screen, PluginsScreen)
        yield app, pilot, screen


async def go(pilot: Pilot[Any], *keys: str) -> None:
    for key in keys:
        await pilot.press(key)
        await settle(pilot)


async def select_plugin(pilot: Pilot[Any], screen: PluginsScreen, name: str) -> None:
    table = screen.query_one(PluginsTable)
    table.focus()
    table.move_cursor(row=[p.name for p in screen.plugins].index(name))
    await settle(pilot)


def stock(app_: App, sku: str) -> int:
    return int(app_.db.scalar("SELECT stock FROM plugin_shop_products WHERE sku = ?", (sku,)))


def inventory(screen: PluginScreen) -> tuple[Table, dict[str, str]]:
    shown = screen.shown
    assert isinstance(shown, Grid)
    table, detail = shown.cells[0].content, shown.cells[1].content
    assert isinstance(table, Table) and isinstance(detail, Detail)
    return table, {f.label: f.value for f in detail.fields}


@pilot_test
async def test_restock_from_the_inventory_screen(project: tuple[App, AdminPluginControl]) -> None:
    app_, control = project
    async with plugins_area(control, app_) as (app, pilot, area):
        await select_plugin(pilot, area, "shop")
        listed = area.query_one(PluginScreensTable)
        assert listed.display and listed.row_count == 1
        await go(pilot, "o")
        screen = app.screen
        assert isinstance(screen, PluginScreen) and screen.path == "shop/inventory"
        table, selected = inventory(screen)
        assert [r[0] for r in table.rows] == ["Glue", "Hammer", "Saw"]
        assert table.cursor == 0 and selected["Status"] == "sold out"
        assert len(screen.query(PluginCell)) == 3
        await go(pilot, "down")
        table, selected = inventory(screen)
        assert table.cursor == 1 and selected["SKU"] == "HAM-1"
        await go(pilot, "r")
        assert isinstance(app.screen, ConfirmModal)
        await go(pilot, "n")  # declined: nothing changes
        assert app.screen is screen and stock(app_, "HAM-1") == 3
        await go(pilot, "r")
        assert isinstance(app.screen, ConfirmModal)
        await go(pilot, "y")
        assert app.screen is screen
        assert stock(app_, "HAM-1") == 13
        table, selected = inventory(screen)
        assert table.rows[1] == ("Hammer", "HAM-1", "13", "12.50") and selected["Stock"] == "13"
        note = screen.shown.cells[2].content  # type: ignore[union-attr]
        assert isinstance(note, TextBlock) and note.lines[0].text == "restocked HAM-1 to 13"
        await go(pilot, "escape")
        assert app.screen is area


@pilot_test
async def test_a_looping_screen_is_stopped_and_the_app_goes_on(
    project: tuple[App, AdminPluginControl],
) -> None:
    app_, control = project
    async with plugins_area(control, app_) as (app, pilot, area):
        await select_plugin(pilot, area, "looping_screen")
        await go(pilot, "o")
        assert isinstance(app.screen, PluginScreen)
        await go(pilot, "l")
        assert app.screen is area
        errors = [n for n in app._notifications if n.severity == "error"]
        assert errors and "timed out" in errors[-1].message
        assert "looping_screen/spin" in errors[-1].title
        # the app still works: another plugin's screen opens and answers keys
        await select_plugin(pilot, area, "hello")
        await go(pilot, "o")
        screen = app.screen
        assert isinstance(screen, PluginScreen) and screen.path == "hello/greeting"
        await go(pilot, "x")
        shown = screen.shown
        assert isinstance(shown, TextBlock) and shown.lines[1].text == "last key: x"
        await go(pilot, "t")
        assert any(n.message == "hello, world" for n in app._notifications)
        await go(pilot, "q")  # the screen returns: closed
        assert app.screen is area
        # and the looping plugin's screen can be opened again
        await select_plugin(pilot, area, "looping_screen")
        await go(pilot, "o")
        assert isinstance(app.screen, PluginScreen)
        await go(pilot, "escape")


@pilot_test
async def test_palette_offers_screens_and_disabled_plugins_are_refused(
    project: tuple[App, AdminPluginControl],
) -> None:
    app_, control = project
    control.set_enabled("hello", False)
    async with plugins_area(control, app_) as (app, pilot, area):
        paths = [s.path for s in area.screens_known]
        assert "shop/inventory" in paths and "hello/greeting" not in paths
        commands = [c.title for c in app.get_system_commands(area)]
        assert "Open shop/inventory" in commands
        await select_plugin(pilot, area, "hello")
        await go(pilot, "o")
        assert app.screen is area
        assert any("disabled" in n.message for n in app._notifications)
        hello = next(s for s in control.screens("hello"))
        area.open_plugin_screen(hello)
        await settle(pilot)
        assert app.screen is area


@pilot_test
async def test_a_screen_of_a_disabled_plugin_fails_cleanly_when_opened_directly(
    project: tuple[App, AdminPluginControl],
) -> None:
    app_, control = project
    control.set_enabled("hello", False)
    async with plugins_area(control, app_) as (app, pilot, area):
        app.push_screen(PluginScreen(control, "hello", "greeting"))
        await settle(pilot)
        assert app.screen is area
        errors = [n for n in app._notifications if n.severity == "error"]
        assert errors and "disabled" in errors[-1].message
        assert app.is_running
        title = area.query_one("#plugin-title", Static)
        assert title is not None


def test_key_names_follow_the_original() -> None:
    assert screen_key("r", "r") == "r"
    assert screen_key("R", "R") == "R"
    assert screen_key("question_mark", "?") == "?"
    assert screen_key("space", " ") == "space"
    assert screen_key("pagedown", None) == "pgdown"
    assert screen_key("ctrl+s", None) == "ctrl+s"
    assert screen_key("shift+up", None) == "shift+up"
    assert screen_key("enter", "\r") == "enter"


@pilot_test
async def test_resize_and_focus_reach_the_screen(project: tuple[App, AdminPluginControl]) -> None:
    app_, control = project
    async with plugins_area(control, app_) as (app, pilot, area):
        await select_plugin(pilot, area, "hello")
        await go(pilot, "o")
        screen = app.screen
        assert isinstance(screen, PluginScreen)
        shown = screen.shown
        assert isinstance(shown, TextBlock) and shown.lines[2].text == "screen size: 100x28"
        await pilot.resize_terminal(120, 40)
        await settle(pilot)
        shown = screen.shown
        assert isinstance(shown, TextBlock) and shown.lines[2].text == "screen size: 120x38"
        await go(pilot, "escape")
        # a layout with several cells: tab moves the focus there instead of reaching the plugin
        await select_plugin(pilot, area, "shop")
        await go(pilot, "o", "tab")
        inventory_screen = app.screen
        assert isinstance(inventory_screen, PluginScreen)
        focused = [c for c in inventory_screen.query(PluginCell) if c.has_class("focused")]
        assert len(focused) == 1 and focused[0].cell.title == "Selected"
        await go(pilot, "escape")
