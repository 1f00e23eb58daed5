"""Schema, Routes, Users & tokens and Activity areas, plus help and the command palette."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.command import CommandPalette
from textual.widgets import Input, Select, Switch
from tui_support import SYSTEM, open_project, pilot_test, running, settle

from modulacms.app import App
from modulacms.core.models import FieldType
from modulacms.tui.modals.confirm import ConfirmModal
from modulacms.tui.modals.field_form import FieldFormModal
from modulacms.tui.modals.form import FormModal
from modulacms.tui.modals.help import HelpModal
from modulacms.tui.modals.secret import SecretModal
from modulacms.tui.screens.activity import ActivityScreen
from modulacms.tui.screens.routes import RoutesScreen
from modulacms.tui.screens.schema import SchemaScreen
from modulacms.tui.screens.users import UsersScreen


@pytest.fixture
def project(tmp_path: Path) -> Iterator[tuple[App, dict[str, str]]]:
    app, ids = open_project(tmp_path)
    yield app, ids
    app.close()


async def go(pilot, key: str) -> None:
    await pilot.press(key)
    await settle(pilot)


async def fill(pilot, values: dict[str, str | bool]) -> None:
    """Fill the open form's inputs by name and submit it."""
    form = pilot.app.screen
    for name, value in values.items():
        widget = form.query_one(f"#input-{name}")
        if isinstance(widget, Switch | Select):
            widget.value = value
        else:
            assert isinstance(widget, Input)
            widget.value = str(value)
    await pilot.pause()
    await pilot.press("ctrl+s")
    await settle(pilot)


@pilot_test
async def test_schema_datatypes_and_fields(project) -> None:
    app_, _ = project
    schema = app_.services.schema
    async with running(app_.services) as (app, pilot):
        await go(pilot, "f3")
        screen = app.screen
        assert isinstance(screen, SchemaScreen)
        assert [d.name for d in screen.datatypes] == ["page", "section"]
        # a new datatype; a bad name is reported on the field
        await go(pilot, "n")
        await fill(pilot, {"name": "Bad Name", "label": "x"})
        assert isinstance(app.screen, FormModal)
        assert "lowercase" in str(app.screen.query_one("#error-name").render())
        await fill(pilot, {"name": "card", "label": "Card"})
        assert schema.datatype("card").label == "Card"
        assert screen.current_datatype() is not None
        assert screen.current_datatype().name == "card"
        # a new select field with options, attached as required
        screen.f_table.focus()
        await go(pilot, "n")
        modal = app.screen
        assert isinstance(modal, FieldFormModal)
        modal.query_one("#input-type", Select).value = "select"
        await pilot.pause()
        assert modal.query_one("#rule-options").display
        assert not modal.query_one("#rule-max_length").display
        await fill(
            pilot, {"name": "tone", "label": "Tone", "options": "calm, loud", "required": True}
        )
        attached = schema.fields_of("card")
        assert [(df.field.name, df.required) for df in attached] == [("tone", True)]
        assert attached[0].field.type is FieldType.SELECT
        assert attached[0].field.validation == {"options": ["calm", "loud"]}
        # attach an existing field, toggle required, reorder, edit, detach
        await go(pilot, "a")
        form = app.screen
        assert isinstance(form, FormModal)
        field_id = schema.field("heading").field_id
        await fill(pilot, {"field": field_id})
        assert [df.field.name for df in schema.fields_of("card")] == ["tone", "heading"]
        await go(pilot, "space")
        assert schema.fields_of("card")[1].required
        await go(pilot, "shift+up")
        assert [df.field.name for df in schema.fields_of("card")] == ["heading", "tone"]
        screen.f_table.move_cursor(row=1)
        await go(pilot, "e")
        await fill(pilot, {"label": "Tone of voice", "options": "calm, loud, quiet"})
        assert schema.field("tone").validation == {"options": ["calm", "loud", "quiet"]}
        assert schema.field("tone").label == "Tone of voice"
        await go(pilot, "x")
        await pilot.click("#yes")
        await settle(pilot)
        assert [df.field.name for df in schema.fields_of("card")] == ["heading"]
        # deleting a datatype asks first
        screen.dt_table.focus()
        await go(pilot, "d")
        assert isinstance(app.screen, ConfirmModal)
        await pilot.click("#yes")
        await settle(pilot)
        assert [d.name for d in schema.datatypes()] == ["page", "section"]


@pilot_test
async def test_a_used_datatype_cannot_be_deleted_and_says_why(project) -> None:
    app_, _ = project
    async with running(app_.services) as (app, pilot):
        await go(pilot, "f3")
        await go(pilot, "d")
        await pilot.click("#yes")
        await settle(pilot)
        assert app_.services.schema.datatype("page")
        assert any("used by" in n.message for n in app._notifications)


@pilot_test
async def test_routes_create_rename_and_delete(project) -> None:
    app_, _ = project
    routes = app_.services.routes
    async with running(app_.services) as (app, pilot):
        await go(pilot, "f4")
        screen = app.screen
        assert isinstance(screen, RoutesScreen)
        assert [r.slug for r in screen.routes] == ["/", "/about"]
        await go(pilot, "n")
        await fill(pilot, {"slug": "No Slash"})
        assert "starts with /" in str(app.screen.query_one("#error-slug").render())
        await fill(pilot, {"slug": "/contact", "title": "Contact"})
        assert routes.get("/contact").title == "Contact"
        assert screen.current() is not None and screen.current().slug == "/contact"
        await go(pilot, "e")
        await fill(pilot, {"slug": "/contact-us"})
        assert routes.get("/contact-us").title == "Contact"
        await go(pilot, "d")
        await pilot.click("#yes")
        await settle(pilot)
        assert [r.slug for r in routes.list()] == ["/", "/about"]
        # a route with content needs a second, explicit confirmation
        screen.table.move_cursor(row=1)
        await go(pilot, "d")
        await pilot.click("#yes")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal) and "content" in app.screen.message
        await pilot.click("#yes")
        await settle(pilot)
        assert [r.slug for r in routes.list()] == ["/"]


@pilot_test
async def test_routes_open_in_content(project) -> None:
    app_, ids = project
    async with running(app_.services) as (app, pilot):
        await go(pilot, "f4")
        screen = app.screen
        assert isinstance(screen, RoutesScreen)
        screen.table.move_cursor(row=1)
        await go(pilot, "c")
        assert app.current_mode == "content"
        content = app.areas["content"]
        assert content.route is not None and content.route.slug == "/about"
        assert content.ctree.cursor_id == ids["About"]


@pilot_test
async def test_users_and_tokens(project) -> None:
    app_, _ = project
    users, auth = app_.services.users, app_.services.auth
    async with running(app_.services) as (app, pilot):
        await go(pilot, "f5")
        screen = app.screen
        assert isinstance(screen, UsersScreen)
        await go(pilot, "n")
        await fill(pilot, {"email": "ed@example.com", "name": "Ed", "password": "short"})
        assert "8" in str(app.screen.query_one("#error-password").render())
        await fill(pilot, {"password": "long-enough-pass", "role": "editor"})
        found, _ = users.list(SYSTEM, search="ed@example.com")
        assert [(u.email, u.role_name) for u in found] == [("ed@example.com", "editor")]
        ed = found[0]
        assert screen.current_user() is not None and screen.current_user().user_id == ed.user_id
        # a token: its secret is shown once, and it authenticates
        screen.t_table.focus()
        await go(pilot, "n")
        await fill(pilot, {"name": "website build"})
        shown = app.screen
        assert isinstance(shown, SecretModal)
        secret = shown.secret
        assert auth.authenticate_token(secret).user_id == ed.user_id
        await go(pilot, "escape")
        assert [t.name for t in screen.tokens] == ["website build"]
        await go(pilot, "x")
        await pilot.click("#yes")
        await settle(pilot)
        assert auth.tokens(SYSTEM, user_id=ed.user_id)[0].revoked_at is not None
        # edit: role and active flag
        screen.u_table.focus()
        await go(pilot, "e")
        await fill(pilot, {"role": "viewer", "active": False})
        updated = users.get(ed.user_id, SYSTEM)
        assert (updated.role_name, updated.is_active) == ("viewer", False)


@pilot_test
async def test_activity_lists_newest_first_and_filters(project) -> None:
    app_, ids = project
    app_.services.content.update(ids["Intro"], {"heading": "Latest"}, 1, SYSTEM)
    async with running(app_.services) as (app, pilot):
        await go(pilot, "f7")
        screen = app.screen
        assert isinstance(screen, ActivityScreen)
        first = screen.events[0]
        assert (first.table_name, first.operation, first.record_id) == (
            "content_data",
            "update",
            ids["Intro"],
        )
        stamps = [e.date_created for e in screen.events]
        assert stamps == sorted(stamps, reverse=True)
        screen.query_one("#filter-table", Select).value = "routes"
        await settle(pilot)
        assert {e.table_name for e in screen.events} == {"routes"}
        assert screen.total == 2
        await go(pilot, "enter")
        assert "route" in app.screen.query_one("#event-text").text
        # changes made elsewhere show up when coming back to the area
        await go(pilot, "escape")
        await go(pilot, "f2")
        app_.services.routes.create("/later", SYSTEM)
        await go(pilot, "f7")
        assert screen.total == 3


@pilot_test
async def test_help_lists_every_key_and_the_palette_runs_actions(project) -> None:
    app_, _ = project
    async with running(app_.services) as (app, pilot):
        await go(pilot, "f1")
        modal = app.screen
        assert isinstance(modal, HelpModal)
        described = {(i.section, i.description) for i in modal.items}
        assert ("Content tree", "Add child") in described
        assert ("Content area", "Save") in described
        assert ("Everywhere", "Help") in described
        await go(pilot, "escape")
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for wanted in ("Go to Schema", "Content tree: Publish", "Content tree: Move", "Help"):
            assert wanted in titles
        await go(pilot, "ctrl+p")
        assert isinstance(app.screen, CommandPalette)
        app.screen.query_one(Input).value = "go to routes"
        await settle(pilot)
        await go(pilot, "enter")
        assert app.current_mode == "routes"


@pilot_test
async def test_content_area_follows_routes_changed_elsewhere(project) -> None:
    app_, _ = project
    async with running(app_.services) as (app, pilot):
        content = app.areas["content"]
        await go(pilot, "f4")
        app_.services.routes.delete("/", SYSTEM, force=True)
        await go(pilot, "f2")
        assert content.route is None
        assert content.ctree.route_tree is None
        assert "deleted" in str(content.ctree.root.label)
        assert [r.slug for r in content.routes_list.routes] == ["/about"]


@pilot_test
async def test_an_open_form_follows_schema_changes(project) -> None:
    app_, ids = project
    async with running(app_.services) as (app, pilot):
        content = app.areas["content"]
        content.ctree.focus_id(ids["Intro"])
        await settle(pilot)
        assert [w.name_ for w in content.editor.inputs()] == ["heading"]
        await go(pilot, "f3")
        app_.services.schema.attach("section", "summary", SYSTEM)
        await go(pilot, "f2")
        assert [w.name_ for w in content.editor.inputs()] == ["heading", "summary"]


@pilot_test
async def test_the_mouse_switches_areas_from_the_area_bar(project) -> None:
    app_, _ = project
    async with running(app_.services) as (app, pilot):
        bar = app.screen.query_one("#area-bar")
        x = str(bar.render()).index("F3 Schema") + 1 + bar.styles.padding.left
        await pilot.click("#area-bar", offset=(x, 0))
        await settle(pilot)
        assert app.current_mode == "schema"
