"""Benchmark sites: generated through the services, cached under ``bench-data/``.

``site(pages)`` returns the path of a database holding ``pages`` published page routes
(``/pages/<n>``), each one ``page`` node with 10 fields, plus ``/tree``: a published route
whose tree has 50 nodes with 10 fields each. Fields: ``title``, ``category`` (10 values),
``rank`` (a number 0-999), ``f3`` ... ``f9`` (text). A generated file is reused while the
schema version and generator version match.
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path

from rich.progress import Progress

from modulacms.app import build_app
from modulacms.core.models import Actor
from modulacms.db.migrate import latest_version
from modulacms.services.content import NewContent
from modulacms.services.registry import Services

GENERATOR_VERSION = 1
DATA = Path(__file__).resolve().parent.parent / "bench-data"
FIELDS = ["title", "category", "rank", *[f"f{n}" for n in range(3, 10)]]
TREE_SLUG = "/tree"


def page_values(rng: random.Random, n: int) -> dict[str, object]:
    values: dict[str, object] = {f"f{k}": f"text {k} of page {n} " + "x" * 40 for k in range(3, 10)}
    values |= {
        "title": f"Page {n}",
        "category": f"c{rng.randrange(10)}",
        "rank": rng.randrange(1000),
    }
    return values


def define_schema(services: Services, actor: Actor) -> None:
    services.schema.create_datatype("page", actor)
    for name in FIELDS:
        services.schema.create_field(name, "number" if name == "rank" else "text", actor)
        services.schema.attach("page", name, actor)


def build_tree(services: Services, actor: Actor, rng: random.Random) -> None:
    """50 nodes: a root, 7 sections, 6 children each."""
    services.routes.create(TREE_SLUG, actor, title="Tree")
    root = services.content.create(TREE_SLUG, "page", page_values(rng, -1), actor)
    items = []
    for section in range(7):
        section_id = f"01BENCHSECT{section:015d}"
        items.append(
            NewContent(
                "page", page_values(rng, -2), parent_id=root.content_data_id, content_id=section_id
            )
        )
        items += [NewContent("page", page_values(rng, -3), parent_id=section_id) for _ in range(6)]
    services.content.create_many(TREE_SLUG, items, actor)
    services.publishing.publish(TREE_SLUG, actor)


def site(pages: int, *, quiet: bool = False) -> Path:
    """A cached benchmark site with ``pages`` published pages (built on first use)."""
    DATA.mkdir(exist_ok=True)
    path = DATA / f"site-{pages}-v{latest_version()}-g{GENERATOR_VERSION}.db"
    if path.exists():
        return path
    work = path.with_suffix(".building")
    for leftover in DATA.glob(work.name + "*"):
        leftover.unlink()
    older = sorted(DATA.glob(f"site-{pages}-v*-g{GENERATOR_VERSION}.db"))
    if older:
        # the same generator on an older schema: migrating a copy gives the same site
        shutil.copyfile(older[-1], work)
        with build_app(work) as app:
            app.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        shutil.move(work, path)
        for stale in older:
            stale.unlink()
        return path
    actor = Actor.system("bench")
    rng = random.Random(pages)
    with build_app(work) as app, Progress(transient=True, disable=quiet) as progress:
        services = app.services
        define_schema(services, actor)
        build_tree(services, actor, rng)
        task = progress.add_task(f"generating {pages:,} pages", total=pages)
        for n in range(pages):
            slug = f"/pages/{n}"
            services.routes.create(slug, actor)
            services.content.create(slug, "page", page_values(rng, n), actor)
            services.publishing.publish(slug, actor)
            progress.advance(task)
        app.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.move(work, path)
    return path
