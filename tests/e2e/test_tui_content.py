"""The Content area under Pilot: opening, editing, saving, conflicts and unsaved changes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.coordinate import Coordinate
from textual.widgets import Input, Select, Switch, TextArea
from tui_support import SYSTEM, item, open_project, pilot_test, running, settle

from modulacms.app import App
from modulacms.tui.app import ModulaApp
from modulacms.tui.modals.choice import ChoiceModal
from modulacms.tui.modals.conflict import ConflictModal
from modulacms.tui.screens.content import ContentScreen
from modulacms.tui.widgets.content.field_inputs import (
    BooleanInput,
    MarkdownInput,
    ReferenceInput,
    SelectInput,
)


@pytest.fixture
def project(tmp_path: Path) -> Iterator[tuple[App, dict[str, str]]]:
    app, ids = open_project(tmp_path)
    yield app, ids
    app.close()


def content_screen(app: ModulaApp) -> ContentScreen:
    screen = app.screen
    assert isinstance(screen, ContentScreen)
    return screen


def labels(screen: ContentScreen) -> list[str]:
    """The plain text of every line the tree shows."""
    tree = screen.ctree
    out = []
    for line in range(tree.last_line + 1):
        node = tree.get_node_at_line(line)
        if node is not None:
            out.append(str(node.label.plain if hasattr(node.label, "plain") else node.label))
    return out


@pilot_test
async def test_opens_home_route_with_tree_and_form(project) -> None:
    app_, ids = project
    async with running(app_.services) as (app, pilot):
        screen = content_screen(app)
        assert [r.slug for r in screen.routes_list.routes] == ["/", "/about"]
        shown = labels(screen)
        assert shown[0].startswith("○ Home")
        assert any("Intro" in line for line in shown)
        assert screen.ctree.has_focus
        assert screen.editor.item is not None
        assert screen.editor.item.node.content_data_id == ids["Home"]
        title = screen.editor.input_for("title")
        assert title is not None and title.text() == "Home"


@pilot_test
async def test_one_suitable_widget_per_field_type(project) -> None:
    app_, _ = project
    async with running(app_.services) as (app, pilot):
        editor = content_screen(app).editor
        kinds = {w.name_: type(w) for w in editor.inputs()}
        assert kinds["body"] is MarkdownInput
        assert kinds["featured"] is BooleanInput
        assert kinds["category"] is SelectInput
        assert kinds["related"] is ReferenceInput
        assert editor.query_one("#field-featured Switch", Switch)
        assert editor.query_one("#field-category Select", Select)
        assert editor.query_one("#field-meta TextArea", TextArea)
        views = editor.query_one("#field-views Input", Input)
        assert views.type == "integer"
        # markdown preview toggles with ctrl+t
        body = editor.query_one("#field-body TextArea", TextArea)
        body.load_text("# Hello\n\nsome *markdown*")
        body.focus()
        await pilot.press("ctrl+t")
        await settle(pilot)
        assert editor.query("#field-body Markdown")
        await pilot.press("ctrl+t")
        await settle(pilot)
        assert not editor.query("#field-body Markdown")


@pilot_test
async def test_edit_and_save_writes_the_database(project) -> None:
    app_, ids = project
    async with running(app_.services) as (app, pilot):
        screen = content_screen(app)
        await pilot.press("e")  # focus the form
        title = screen.editor.query_one("#field-title Input", Input)
        assert title.has_focus
        title.value = ""
        await pilot.press(*"Welcome")
        views = screen.editor.query_one("#field-views Input", Input)
        views.value = "42"
        screen.editor.query_one("#field-featured Switch", Switch).value = True
        screen.editor.query_one("#field-category Select", Select).value = "guides"
        await pilot.pause()
        assert screen.editor.dirty
        await pilot.press("ctrl+s")
        await settle(pilot)
        saved = item(app_.services, ids["Home"])
        assert saved.values["title"] == "Welcome"
        assert saved.values["views"] == "42"
        assert saved.values["featured"] == "true"
        assert saved.values["category"] == "guides"
        assert saved.values["summary"] is None  # untouched fields stay empty
        assert saved.node.revision == 2
        assert not screen.editor.dirty
        assert labels(screen)[0].startswith("○ Welcome")


@pilot_test
async def test_validation_errors_appear_on_the_fields_and_keep_the_edit(project) -> None:
    app_, ids = project
    async with running(app_.services) as (app, pilot):
        screen = content_screen(app)
        editor = screen.editor
        editor.query_one("#field-views Input", Input).value = "-5"
        editor.query_one("#field-link Input", Input).value = "not a url"
        await pilot.press("ctrl+s")
        await settle(pilot)
        views, link = editor.input_for("views"), editor.input_for("link")
        assert views is not None and link is not None
        assert views.has_class("-invalid") and "at least 0" in str(
            views.query_one(".field-error").render()
        )
        assert link.has_class("-invalid")
        assert editor.query_one("#field-views Input", Input).value == "-5"
        assert editor.dirty
        assert item(app_.services, ids["Home"]).node.revision == 1


@pilot_test
async def test_conflict_keep_mine_overwrites_after_showing_both(project) -> None:
    app_, ids = project
    async with running(app_.services) as (app, pilot):
        screen = content_screen(app)
        # someone else saves the node after it was opened
        app_.services.content.update(ids["Home"], {"title": "Theirs"}, 1, SYSTEM)
        screen.editor.query_one("#field-title Input", Input).value = "Mine"
        await pilot.press("ctrl+s")
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, ConflictModal)
        assert ("Title", "Mine", "Theirs") in modal.rows
        assert (modal.mine_revision, modal.their_revision) == (1, 2)
        await pilot.click("#mine")
        await settle(pilot)
        saved = item(app_.services, ids["Home"])
        assert saved.values["title"] == "Mine" and saved.node.revision == 3
        assert not screen.editor.dirty


@pilot_test
async def test_conflict_take_theirs_and_cancel_keep_nothing_silently(project) -> None:
    app_, ids = project
    async with running(app_.services) as (app, pilot):
        screen = content_screen(app)
        app_.services.content.update(ids["Home"], {"title": "Theirs"}, 1, SYSTEM)
        screen.editor.query_one("#field-title Input", Input).value = "Mine"
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.click("#cancel")
        await settle(pilot)
        assert screen.editor.dirty  # cancel keeps the edit in the form
        assert screen.editor.query_one("#field-title Input", Input).value == "Mine"
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.click("#theirs")
        await settle(pilot)
        assert not screen.editor.dirty
        assert screen.editor.query_one("#field-title Input", Input).value == "Theirs"
        assert item(app_.services, ids["Home"]).values["title"] == "Theirs"


@pilot_test
async def test_leaving_a_dirty_form_asks(project) -> None:
    app_, ids = project
    async with running(app_.services) as (app, pilot):
        screen = content_screen(app)
        screen.editor.query_one("#field-title Input", Input).value = "Draft title"
        screen.ctree.focus()
        await pilot.press("down")
        await settle(pilot)
        # moving the cursor keeps the dirty form open
        assert screen.editor.item is not None
        assert screen.editor.item.node.content_data_id == ids["Home"]
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ChoiceModal)
        await pilot.click("#answer-cancel")
        await settle(pilot)
        assert screen.editor.dirty
        screen.ctree.focus()
        await pilot.press("enter")
        await settle(pilot)
        await pilot.click("#answer-save")
        await settle(pilot)
        assert item(app_.services, ids["Home"]).values["title"] == "Draft title"
        assert screen.editor.item is not None
        assert screen.editor.item.node.content_data_id == ids["Intro"]
        # discarding drops the edit and opens the other node
        screen.editor.query_one("#field-heading Input", Input).value = "Changed"
        screen.ctree.focus()
        await pilot.press("down", "enter")
        await settle(pilot)
        await pilot.click("#answer-discard")
        await settle(pilot)
        assert screen.editor.item.node.content_data_id == ids["Features"]
        assert item(app_.services, ids["Intro"]).values["heading"] == "Intro"


@pilot_test
async def test_quitting_with_unsaved_changes_asks(project) -> None:
    app_, _ = project
    async with running(app_.services) as (app, pilot):
        screen = content_screen(app)
        screen.editor.query_one("#field-title Input", Input).value = "Unsaved"
        await pilot.press("ctrl+q")
        await settle(pilot)
        assert isinstance(app.screen, ChoiceModal)
        await pilot.click("#answer-stay")
        await settle(pilot)
        assert app.is_running and screen.editor.dirty


@pilot_test
async def test_markup_in_user_text_is_shown_as_typed(project) -> None:
    app_, ids = project
    tricky = "Arrays[int] a[/]b [bold]x"
    services = app_.services
    services.content.update(ids["Home"], {"title": tricky}, 1, SYSTEM)
    services.routes.update("/", SYSTEM, title=tricky)
    services.schema.update_field("title", SYSTEM, label=tricky)
    async with running(services) as (app, pilot):
        screen = content_screen(app)
        assert labels(screen)[0].startswith(f"○ {tricky}")
        assert tricky in str(screen.editor.query_one("#editor-head").render())
        assert tricky in str(screen.editor.query_one("#field-title .field-label").render())
        screen.editor.query_one("#field-summary TextArea", TextArea).load_text("[/]")
        await pilot.press("ctrl+s")  # the "Saved …" toast quotes the title
        await settle(pilot)
        assert item(services, ids["Home"]).values["summary"] == "[/]"
        for key in ("f3", "f4", "f7", "f2"):
            await pilot.press(key)
            await settle(pilot)
        routes_table = app.areas["routes"].table
        assert routes_table.get_cell_at(Coordinate(0, 1)).plain == tricky
        assert app.is_running


@pilot_test
async def test_area_keys_work_from_a_focused_field_and_keep_the_edit(project) -> None:
    app_, _ = project
    async with running(app_.services) as (app, pilot):
        screen = content_screen(app)
        summary = screen.editor.query_one("#field-summary TextArea", TextArea)
        summary.focus()
        await pilot.press("end", "!")
        await settle(pilot)
        typed = summary.text
        assert typed.endswith("!")
        await pilot.press("f7")
        await settle(pilot)
        assert app.current_mode == "activity"
        await pilot.press("f2")
        await settle(pilot)
        assert app.current_mode == "content"
        assert screen.editor.dirty
        assert screen.editor.query_one("#field-summary TextArea", TextArea).text == typed
