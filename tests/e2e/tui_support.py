"""Helpers for the TUI end-to-end tests: a seeded project on a real SQLite file, the app
under Pilot, and a way to wait until every worker has reported back."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from modulacms.app import App, build_app
from modulacms.core.models import Actor, ContentItem
from modulacms.services.content import NewContent
from modulacms.services.registry import Services
from modulacms.tui.app import ModulaApp

SYSTEM = Actor.system("tui-test")


def pilot_test(fn: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    """Run an async test body in its own event loop (no async pytest plugin needed)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        asyncio.run(fn(*args, **kwargs))

    return wrapper


PAGE_FIELDS: list[tuple[str, str, dict[str, Any], bool]] = [
    ("title", "text", {"max_length": 80}, True),
    ("summary", "textarea", {}, False),
    ("body", "richtext", {}, False),
    ("views", "number", {"min": 0, "integer": True}, False),
    ("featured", "boolean", {}, False),
    ("published_on", "date", {}, False),
    ("starts_at", "datetime", {}, False),
    ("category", "select", {"options": ["news", "guides"]}, False),
    ("meta", "json", {}, False),
    ("link", "url", {}, False),
    ("contact", "email", {}, False),
    ("handle", "slug", {}, False),
    ("related", "reference", {"target": "page"}, False),
    ("image", "media", {}, False),
]


def seed(services: Services) -> dict[str, str]:
    """A page datatype using every field type, a section datatype, routes / and /about.

    Returns the ids of the nodes by title.
    """
    schema = services.schema
    schema.create_datatype("page", SYSTEM, label="Page")
    schema.create_datatype("section", SYSTEM, label="Section")
    for name, kind, rules, _ in PAGE_FIELDS:
        schema.create_field(name, kind, SYSTEM, validation=rules)
    for name, _, _, required in PAGE_FIELDS:
        schema.attach("page", name, SYSTEM, required=required)
    schema.create_field("heading", "text", SYSTEM)
    schema.attach("section", "heading", SYSTEM, required=True)
    services.routes.create("/", SYSTEM, title="Home")
    services.routes.create("/about", SYSTEM, title="About")
    ids: dict[str, str] = {}
    content = services.content
    home = content.create("/", "page", {"title": "Home", "views": 3}, SYSTEM)
    ids["Home"] = home.content_data_id
    for heading in ("Intro", "Features", "Outro"):
        made = content.create("/", "section", {"heading": heading}, SYSTEM, parent_id=ids["Home"])
        ids[heading] = made.content_data_id
    about = content.create("/about", "page", {"title": "About"}, SYSTEM)
    ids["About"] = about.content_data_id
    return ids


def add_big_route(services: Services, slug: str, count: int) -> list[str]:
    """A route whose root page has ``count - 1`` sections below it, in one transaction."""
    services.routes.create(slug, SYSTEM)
    root = services.content.create(slug, "page", {"title": "Big"}, SYSTEM)
    items = [
        NewContent("section", {"heading": f"Section {i:04d}"}, parent_id=root.content_data_id)
        for i in range(1, count)
    ]
    made = services.content.create_many(slug, items, SYSTEM)
    return [root.content_data_id, *(m.content_data_id for m in made)]


def open_project(path: Path) -> tuple[App, dict[str, str]]:
    project = build_app(path / "modulacms.db")
    return project, seed(project.services)


async def settle(pilot: Pilot[Any], rounds: int = 60) -> None:
    """Wait until no worker runs and every message they posted has been handled."""
    app = pilot.app
    quiet = 0
    for _ in range(rounds):
        await app.workers.wait_for_complete()
        await pilot.pause()
        if any(not w.is_finished for w in app.workers):
            quiet = 0
            continue
        quiet += 1
        if quiet >= 2:
            return
    raise AssertionError("the TUI did not settle")


@asynccontextmanager
async def running(
    services: Services, size: tuple[int, int] = (80, 24), actor: Actor = SYSTEM
) -> AsyncIterator[tuple[ModulaApp, Pilot[Any]]]:
    """The TUI on ``services`` under Pilot, settled after start-up."""
    app = ModulaApp(services, actor, project_name="test")
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        yield app, pilot


def item(services: Services, content_id: str) -> ContentItem:
    return services.content.item(content_id)
