"""Content area tree actions under Pilot: create, insert, move, reorder, delete, trash,
publish, schedule, versions, preview, references, and a 2,000-node route."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import Input, OptionList, TextArea
from tui_support import SYSTEM, add_big_route, item, open_project, pilot_test, running, settle

from modulacms.app import App
from modulacms.core.models import ContentStatus
from modulacms.tui.app import ModulaApp
from modulacms.tui.modals.confirm import ConfirmModal
from modulacms.tui.modals.form import FormModal
from modulacms.tui.modals.media_picker import MediaPicker
from modulacms.tui.modals.node_picker import NodePicker
from modulacms.tui.modals.pick import PickModal
from modulacms.tui.modals.preview import PreviewModal
from modulacms.tui.modals.trash import TrashModal
from modulacms.tui.modals.versions import VersionsModal
from modulacms.tui.screens.content import ContentScreen


@pytest.fixture
def project(tmp_path: Path) -> Iterator[tuple[App, dict[str, str]]]:
    app, ids = open_project(tmp_path)
    yield app, ids
    app.close()


def screen_of(app: ModulaApp) -> ContentScreen:
    screen = app.areas["content"]
    assert isinstance(screen, ContentScreen)
    return screen


def child_titles(project: App, parent_id: str) -> list[str]:
    kids = project.services.content.children(parent_id)
    return [item(project.services, k.content_data_id).values["heading"] or "" for k in kids]


async def pick(pilot, text: str) -> None:
    """Filter the open pick list by ``text`` and take the first match."""
    modal = pilot.app.screen
    modal.query_one(Input).value = text
    await pilot.pause()
    await pilot.press("enter")
    await settle(pilot)


@pilot_test
async def test_add_child_with_datatype_picker(project) -> None:
    app_, ids = project
    async with running(app_.services) as (app, pilot):
        screen = screen_of(app)
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, PickModal)
        await pick(pilot, "section")
        assert screen.editor.new is not None and screen.editor.new.parent_id == ids["Home"]
        # the required heading is missing: the error lands on the field, nothing is created
        await pilot.press("ctrl+s")
        await settle(pilot)
        heading = screen.editor.input_for("heading")
        assert heading is not None and heading.has_class("-invalid")
        screen.editor.query_one("#field-heading Input", Input).value = "Pricing"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert child_titles(app_, ids["Home"]) == ["Intro", "Features", "Outro", "Pricing"]
        new_id = app_.services.content.children(ids["Home"])[-1].content_data_id
        assert screen.ctree.cursor_id == new_id
        assert screen.editor.item is not None and screen.editor.item.node.content_data_id == new_id


@pilot_test
async def test_insert_sibling_before_and_after(project) -> None:
    app_, ids = project
    async with running(app_.services) as (app, pilot):
        screen = screen_of(app)
        screen.ctree.focus_id(ids["Features"])
        await settle(pilot)
        await pilot.press("O")  # before
        await settle(pilot)
        await pick(pilot, "section")
        screen.editor.query_one("#field-heading Input", Input).value = "Before"
        await pilot.press("ctrl+s")
        await settle(pilot)
        screen.ctree.focus_id(ids["Features"])
        screen.ctree.focus()
        await settle(pilot)
        await pilot.press("o")  # after
        await settle(pilot)
        await pick(pilot, "section")
        screen.editor.query_one("#field-heading Input", Input).value = "After"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert child_titles(app_, ids["Home"]) == ["Intro", "Before", "Features", "After", "Outro"]


@pilot_test
async def test_move_under_a_new_parent_and_reorder_with_keys(project) -> None:
    app_, ids = project
    async with running(app_.services) as (app, pilot):
        screen = screen_of(app)
        screen.ctree.focus_id(ids["Outro"])
        await settle(pilot)
        await pilot.press("m")
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, PickModal)
        offered = [key for key, _ in modal.items]
        assert ids["Outro"] not in offered and ids["Intro"] in offered
        await pick(pilot, "Intro")
        assert [c.content_data_id for c in app_.services.content.children(ids["Intro"])] == [
            ids["Outro"]
        ]
        assert screen.ctree.cursor_id == ids["Outro"]
        # reorder: Features moves up above Intro, then down again
        screen.ctree.focus_id(ids["Features"])
        await settle(pilot)
        await pilot.press("shift+up")
        await settle(pilot)
        assert child_titles(app_, ids["Home"]) == ["Features", "Intro"]
        assert screen.ctree.cursor_id == ids["Features"]
        await pilot.press("J")
        await settle(pilot)
        assert child_titles(app_, ids["Home"]) == ["Intro", "Features"]


@pilot_test
async def test_delete_goes_to_trash_and_restores(project) -> None:
    app_, ids = project
    async with running(app_.services) as (app, pilot):
        screen = screen_of(app)
        screen.ctree.focus_id(ids["Features"])
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("escape")  # declining deletes nothing
        await settle(pilot)
        assert "Features" in child_titles(app_, ids["Home"])
        await pilot.press("d")
        await settle(pilot)
        await pilot.click("#yes")
        await settle(pilot)
        assert child_titles(app_, ids["Home"]) == ["Intro", "Outro"]
        assert [t.content_data_id for t in app_.services.content.trash()] == [ids["Features"]]
        assert screen.ctree.cursor_id == ids["Outro"]
        await pilot.press("t")
        await settle(pilot)
        assert isinstance(app.screen, TrashModal)
        assert [r.title for r in app.screen.rows] == ["Features"]
        await pilot.press("enter")
        await settle(pilot)
        assert child_titles(app_, ids["Home"]) == ["Intro", "Outro", "Features"]
        assert screen.ctree.cursor_id == ids["Features"]
        assert app_.services.content.trash() == []


@pilot_test
async def test_publish_unpublish_schedule_and_restore_a_version(project) -> None:
    app_, ids = project
    async with running(app_.services) as (app, pilot):
        screen = screen_of(app)
        await pilot.press("p")
        await settle(pilot)
        await pilot.click("#yes")
        await settle(pilot)
        route = app_.services.routes.get("/")
        assert route.is_published
        assert item(app_.services, ids["Home"]).node.status is ContentStatus.PUBLISHED
        assert screen.ctree.root.label.plain.startswith("●")
        # edit the draft, then restore version 1 over it
        app_.services.content.update(ids["Intro"], {"heading": "Changed"}, 1, SYSTEM)
        await pilot.press("v")
        await settle(pilot)
        assert isinstance(app.screen, VersionsModal)
        assert [v.version for v in app.screen.versions] == [1]
        await pilot.press("enter")
        await settle(pilot)
        await pilot.click("#yes")
        await settle(pilot)
        assert item(app_.services, ids["Intro"]).values["heading"] == "Intro"
        # unpublish
        await pilot.press("u")
        await settle(pilot)
        await pilot.click("#yes")
        await settle(pilot)
        assert not app_.services.routes.get("/").is_published
        # schedule: a time in the past is refused on the field, a future one is kept
        await pilot.press("S")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormModal)
        form.query_one("#input-publish_at", Input).value = "2001-01-01T00:00:00Z"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "future" in str(form.query_one("#error-publish_at").render())
        form.query_one("#input-publish_at", Input).value = "2099-01-01T09:00:00Z"
        await pilot.press("ctrl+s")
        await settle(pilot)
        root = item(app_.services, ids["Home"]).node
        assert root.status is ContentStatus.SCHEDULED and root.publish_at.startswith(
            "2099-01-01T09:00:00"
        )


@pilot_test
async def test_preview_shows_the_delivered_json(project) -> None:
    app_, ids = project
    async with running(app_.services) as (app, pilot):
        await pilot.press("j")
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, PreviewModal)
        document = json.loads(modal.query_one(TextArea).text)
        assert "Home" in json.dumps(document)
        # the published version of an unpublished route is reported, not a crash
        await pilot.press("ctrl+t")
        await settle(pilot)
        assert "not published" in modal.query_one(TextArea).text


@pilot_test
async def test_reference_picker_fills_the_field(project) -> None:
    app_, ids = project
    async with running(app_.services) as (app, pilot):
        screen = screen_of(app)
        screen.editor.query_one("#field-related .pick").focus()
        await pilot.press("enter")
        await settle(pilot)
        picker = app.screen
        assert isinstance(picker, NodePicker)
        options = picker.query_one(OptionList)
        # only pages are offered (the field targets the page datatype)
        assert options.option_count == 1
        await pilot.press("enter")
        await settle(pilot)
        field = screen.editor.query_one("#field-related Input", Input)
        assert field.value == ids["Home"]
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert item(app_.services, ids["Home"]).values["related"] == ids["Home"]


@pilot_test
async def test_media_picker_adds_a_file_and_fills_the_field(project, tmp_path) -> None:
    app_, ids = project
    picture = tmp_path / "team.txt"
    picture.write_text("not really a picture", encoding="utf-8")
    async with running(app_.services) as (app, pilot):
        screen = screen_of(app)
        screen.editor.query_one("#field-image .pick").focus()
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, MediaPicker)
        await pilot.press("ctrl+n")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormModal)
        form.query_one("#input-path", Input).value = str(tmp_path / "missing.jpg")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "no file" in str(form.query_one("#error-path").render())
        form.query_one("#input-path", Input).value = str(picture)
        form.query_one("#input-alt", Input).value = "The team"
        await pilot.press("ctrl+s")
        await settle(pilot)
        media, total = app_.services.media.list(SYSTEM)
        assert total == 1 and media[0].alt == "The team"
        assert screen.editor.query_one("#field-image Input", Input).value == media[0].media_id
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert item(app_.services, ids["Home"]).values["image"] == media[0].media_id


@pilot_test
async def test_a_route_of_2000_nodes_opens_and_scrolls(project) -> None:
    app_, _ = project
    created = add_big_route(app_.services, "/big", 2000)
    async with running(app_.services, size=(120, 40)) as (app, pilot):
        screen = screen_of(app)
        screen.routes_list.query_one("#route-filter", Input).value = "big"
        await pilot.pause()
        screen.routes_list.query_one(OptionList).focus()
        await pilot.press("enter")
        await settle(pilot)
        tree = screen.ctree
        assert tree.route_tree is not None and tree.route_tree.node_count == 2000
        assert tree.has_focus and tree.cursor_id == created[0]
        await pilot.press("end")
        await settle(pilot)
        assert tree.cursor_id == created[-1]
        assert tree.scroll_offset.y > 1900
        assert screen.editor.item is not None
        assert screen.editor.item.values["heading"] == "Section 1999"
        await pilot.press("pageup", "pageup")
        await settle(pilot)
        assert tree.scroll_offset.y < 1990
