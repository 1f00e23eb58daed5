"""The demo site that ``modulacms init --demo`` seeds: a small company site with a blog.

It shows what the CMS is for: datatypes with fields of several types (text, textarea,
markdown, url, date, number, boolean, select, json, email, reference), routes that own
trees several levels deep, blog posts as their own routes, a blog index whose teasers
reference the posts, and everything published. Everything goes through the services, so
the demo also exercises validation, tree operations, audit rows and snapshots.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from modulacms.core.models import Actor
from modulacms.services.registry import Services

Progress = Callable[[int, int], None]

# name, type, label, validation
FIELDS: tuple[tuple[str, str, str, dict[str, Any]], ...] = (
    ("title", "text", "Title", {"max_length": 120}),
    ("summary", "textarea", "Summary", {"max_length": 400}),
    ("heading", "text", "Heading", {}),
    ("subheading", "text", "Subheading", {}),
    ("body", "richtext", "Body (Markdown)", {}),
    ("image_url", "url", "Image address", {}),
    ("alt", "text", "Alternative text", {}),
    ("caption", "text", "Caption", {}),
    ("cta_label", "text", "Button label", {"max_length": 40}),
    ("cta_url", "url", "Button link", {}),
    ("published_on", "date", "Publication date", {}),
    ("reading_minutes", "number", "Reading time (minutes)", {"min": 1, "integer": True}),
    ("featured", "boolean", "Featured", {}),
    ("category", "select", "Category", {"options": ["news", "guides", "releases"]}),
    ("tags", "json", "Tags", {}),
    ("author_email", "email", "Author email", {}),
    ("post", "reference", "Post", {"target": "blog_post"}),
)

# datatype -> (label, description, [(field, required)])
DATATYPES: dict[str, tuple[str, str, list[tuple[str, bool]]]] = {
    "page": ("Page", "The root of an ordinary page.", [("title", True), ("summary", False)]),
    "hero": (
        "Hero",
        "A large banner at the top of a page.",
        [
            ("heading", True),
            ("subheading", False),
            ("image_url", False),
            ("cta_label", False),
            ("cta_url", False),
        ],
    ),
    "section": ("Section", "Groups blocks under a heading.", [("heading", True)]),
    "text_block": ("Text block", "A passage of Markdown.", [("body", True)]),
    "image_block": (
        "Image block",
        "An image with alternative text and a caption.",
        [("image_url", True), ("alt", True), ("caption", False)],
    ),
    "blog_post": (
        "Blog post",
        "The root of a blog post route.",
        [
            ("title", True),
            ("summary", False),
            ("published_on", True),
            ("reading_minutes", False),
            ("featured", False),
            ("category", True),
            ("tags", False),
            ("author_email", False),
        ],
    ),
    "post_teaser": ("Post teaser", "Links to a blog post from a listing.", [("post", True)]),
}

_IMAGE = "https://images.example.com/demo/{}.jpg"

POSTS: tuple[dict[str, Any], ...] = (
    {
        "slug": "hello-modulacms",
        "title": "Hello, ModulaCMS",
        "summary": "Why we built a headless CMS that lives in one executable.",
        "category": "news",
        "tags": ["announcement"],
        "featured": True,
    },
    {
        "slug": "content-trees",
        "title": "Pages are trees of typed blocks",
        "summary": "How routes own trees, and why moving a block never rewrites its siblings.",
        "category": "guides",
        "tags": ["editing", "content"],
    },
    {
        "slug": "plugins-in-lua",
        "title": "Extending the CMS with Lua plugins",
        "summary": "Tables, HTTP endpoints and hooks, inside a sandbox with hard limits.",
        "category": "guides",
        "tags": ["plugins", "lua"],
    },
    {
        "slug": "publishing-and-versions",
        "title": "Publishing, versions and rollbacks",
        "summary": "Snapshots make delivery fast and let you undo a bad publish.",
        "category": "guides",
        "tags": ["publishing"],
    },
    {
        "slug": "release-0-1",
        "title": "Release 0.1",
        "summary": "The first release: TUI, CLI, HTTP API and plugins.",
        "category": "releases",
        "tags": ["release"],
    },
)


@dataclass(frozen=True, slots=True)
class DemoSummary:
    """What the demo seeding created."""

    datatypes: int
    fields: int
    routes: int
    nodes: int


class _Seeder:
    def __init__(self, services: Services, actor: Actor) -> None:
        self.services = services
        self.actor = actor
        self.nodes = 0

    def add(
        self, route: str, datatype: str, values: dict[str, Any], parent: str | None = None
    ) -> str:
        created = self.services.content.create(
            route, datatype, values, self.actor, parent_id=parent
        )
        self.nodes += 1
        return created.content_data_id

    def text(self, route: str, parent: str, body: str) -> str:
        return self.add(route, "text_block", {"body": body}, parent)

    def image(self, route: str, parent: str, name: str, alt: str, caption: str = "") -> str:
        values = {"image_url": _IMAGE.format(name), "alt": alt, "caption": caption}
        return self.add(route, "image_block", values, parent)

    def route(self, slug: str, title: str) -> None:
        self.services.routes.create(slug, self.actor, title=title)


def _schema(services: Services, actor: Actor) -> None:
    for name, kind, label, rules in FIELDS:
        services.schema.create_field(name, kind, actor, label=label, validation=rules)
    for name, (label, description, attached) in DATATYPES.items():
        services.schema.create_datatype(name, actor, label=label, description=description)
        for field_name, required in attached:
            services.schema.attach(name, field_name, actor, required=required)


def _home(seed: _Seeder) -> None:
    seed.route("/", "Home")
    root = seed.add("/", "page", {"title": "Acme Studio", "summary": "We build calm software."})
    seed.add(
        "/",
        "hero",
        {
            "heading": "Content that stays out of your way",
            "subheading": "Edit in the terminal, deliver anywhere.",
            "image_url": _IMAGE.format("hero"),
            "cta_label": "Read the blog",
            "cta_url": "https://acme.example.com/blog",
        },
        root,
    )
    intro = seed.add("/", "section", {"heading": "What we do"}, root)
    seed.text("/", intro, "We design and build **websites and apps** for small teams.")
    seed.image("/", intro, "studio", "Our studio in the morning light", "The studio")
    features = seed.add("/", "section", {"heading": "How we work"}, root)
    for heading, body in (
        ("Editors first", "Pages are trees of blocks: add, move and reorder them freely."),
        ("Developers too", "Every page is JSON at `/api/v1/content/<slug>`."),
    ):
        column = seed.add("/", "section", {"heading": heading}, features)
        seed.text("/", column, body)
        detail = seed.add("/", "section", {"heading": f"{heading}: details"}, column)
        seed.text("/", detail, "Four levels deep, and still one query per table to load.")


def _about(seed: _Seeder) -> None:
    seed.route("/about", "About us")
    root = seed.add("/about", "page", {"title": "About us"})
    seed.add("/about", "hero", {"heading": "A small team with a long memory"}, root)
    story = seed.add("/about", "section", {"heading": "Our story"}, root)
    seed.text("/about", story, "Founded in 2019 by three people who liked plain text.")
    seed.image("/about", story, "team", "The three founders at a whiteboard")
    team = seed.add("/about", "section", {"heading": "The team"}, root)
    for person in ("Ada, engineering", "Grace, design", "Linus, operations"):
        seed.text("/about", team, f"**{person.split(',')[0]}** looks after{person.split(',')[1]}.")


def _post(seed: _Seeder, index: int, post: dict[str, Any]) -> str:
    slug = f"/blog/{post['slug']}"
    seed.route(slug, post["title"])
    values = {
        "title": post["title"],
        "summary": post["summary"],
        "published_on": (date(2026, 1, 1) + timedelta(days=index)).isoformat(),
        "reading_minutes": 3 + index % 5,
        "featured": bool(post.get("featured", False)),
        "category": post["category"],
        "tags": post["tags"],
        "author_email": "editor@acme.example.com",
    }
    root = seed.add(slug, "blog_post", values)
    seed.text(slug, root, f"{post['summary']}\n\nThis is post number {index + 1}.")
    figure = seed.add(slug, "section", {"heading": "In pictures"}, root)
    seed.image(slug, figure, post["slug"], f"Illustration for {post['title']}", post["title"])
    seed.text(slug, root, "Thanks for reading. Write to us at hello@acme.example.com.")
    return root


def _posts(count: int) -> list[dict[str, Any]]:
    posts = list(POSTS[:count])
    for number in range(len(posts), count):
        posts.append(
            {
                "slug": f"notes-{number + 1}",
                "title": f"Notes from the studio, part {number + 1}",
                "summary": "Short notes on what we learned this week.",
                "category": "news",
                "tags": ["notes"],
            }
        )
    return posts


def seed_demo(
    services: Services, actor: Actor, *, posts: int = 5, progress: Progress | None = None
) -> DemoSummary:
    """Create and publish the demo site (schema, routes, trees) in an empty project.

    ``posts`` sets the number of blog posts (the first five are hand-written). Raises
    ``Conflict`` when a demo datatype, field or route already exists.
    """
    seed = _Seeder(services, actor)
    chosen = _posts(posts)
    total = 5 + 2 * len(chosen)
    step = 0

    def tick() -> None:
        nonlocal step
        step += 1
        if progress is not None:
            progress(step, total)

    # one transaction: all or nothing, and one commit instead of thousands
    with services.content.db.transaction():
        _schema(services, actor)
        _home(seed)
        _about(seed)
        tick()
        roots = []
        for index, post in enumerate(chosen):
            roots.append(_post(seed, index, post))
            tick()
        seed.route("/blog", "Blog")
        blog = seed.add("/blog", "page", {"title": "Blog", "summary": "News and guides."})
        seed.text("/blog", blog, "Everything we write about building with ModulaCMS.")
        listing = seed.add("/blog", "section", {"heading": "Latest posts"}, blog)
        for root in reversed(roots):
            seed.add("/blog", "post_teaser", {"post": root}, listing)
        tick()
        for route in services.routes.list():
            services.publishing.publish(route.slug, actor, note="demo")
            tick()
    return DemoSummary(len(DATATYPES), len(FIELDS), 3 + len(chosen), seed.nodes)
