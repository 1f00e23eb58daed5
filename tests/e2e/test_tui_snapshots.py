"""SVG snapshots of key screens at 80x24 and 120x40.

A snapshot is the screen exported as SVG. When a screen changes on purpose, rewrite the
files with ``MODULACMS_UPDATE_SNAPSHOTS=1 pytest tests/e2e/test_tui_snapshots.py`` and
look at them before committing. (pytest-textual-snapshot would need an older pytest.)
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from tui_support import open_project, pilot_test, running, settle

from modulacms.app import App

SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("MODULACMS_UPDATE_SNAPSHOTS") == "1"


@pytest.fixture
def project(tmp_path: Path) -> Iterator[tuple[App, dict[str, str]]]:
    app, ids = open_project(tmp_path)
    yield app, ids
    app.close()


def _normal(svg: str) -> str:
    # the export names its CSS classes after a hash of the content; equal screens give
    # equal hashes, but keep the comparison about what is drawn
    return re.sub(r"terminal-\d+", "terminal", svg)


def check(name: str, svg: str) -> None:
    path = SNAPSHOTS / f"{name}.svg"
    if UPDATE or not path.exists():
        assert UPDATE, f"no snapshot {path.name}: run with MODULACMS_UPDATE_SNAPSHOTS=1"
        path.write_text(svg, encoding="utf-8")
        return
    assert _normal(svg) == _normal(path.read_text(encoding="utf-8")), (
        f"{name} differs from {path}; if the change is intended, update the snapshots"
    )


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
@pilot_test
async def test_content_screen(project, size: tuple[int, int]) -> None:
    app_, _ = project
    async with running(app_.services, size=size) as (app, pilot):
        check(f"content_{size[0]}x{size[1]}", app.export_screenshot())


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
@pilot_test
async def test_schema_screen(project, size: tuple[int, int]) -> None:
    app_, _ = project
    async with running(app_.services, size=size) as (app, pilot):
        await pilot.press("f3")
        await settle(pilot)
        check(f"schema_{size[0]}x{size[1]}", app.export_screenshot())


@pilot_test
async def test_add_child_picker_80x24(project) -> None:
    app_, _ = project
    async with running(app_.services) as (app, pilot):
        await pilot.press("a")
        await settle(pilot)
        check("add_child_picker_80x24", app.export_screenshot())


@pilot_test
async def test_help_120x40(project) -> None:
    app_, _ = project
    async with running(app_.services, size=(120, 40)) as (app, pilot):
        await pilot.press("f1")
        await settle(pilot)
        check("help_120x40", app.export_screenshot())
