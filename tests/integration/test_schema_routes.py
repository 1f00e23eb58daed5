"""Schema and route services on a real SQLite file."""

from __future__ import annotations

import pytest

from modulacms.core.models import Actor, ActorKind
from modulacms.errors import Conflict, Forbidden, NotFound, ValidationFailed
from modulacms.services.registry import Services


def test_datatype_and_field_lifecycle(services: Services, system: Actor) -> None:
    dt = services.schema.create_datatype("blog_post", system)
    assert dt.label == "Blog Post"
    services.schema.create_field("body", "richtext", system)
    services.schema.create_field("tags", "select", system, validation={"options": ["a", "b"]})
    services.schema.attach("blog_post", "body", system, required=True)
    services.schema.attach("blog_post", "tags", system)
    assert [df.field.name for df in services.schema.fields_of("blog_post")] == ["body", "tags"]
    services.schema.reorder("blog_post", ["tags", "body"], system)
    assert [df.field.name for df in services.schema.fields_of("blog_post")] == ["tags", "body"]
    with pytest.raises(Conflict, match="attached to blog_post"):
        services.schema.delete_field("body", system)
    services.schema.detach("blog_post", "body", system)
    services.schema.delete_field("body", system)
    renamed = services.schema.update_datatype("blog_post", system, name="article")
    assert services.schema.datatype("article").datatype_id == renamed.datatype_id
    events, total = services.audit.list(system, table="fields")
    assert total == 3 and {e.operation for e in events} == {"create", "delete"}


@pytest.mark.parametrize(
    ("name", "kind", "rules", "problem"),
    [
        ("Bad Name", "text", {}, "name"),
        ("ok", "colour", {}, "type"),
        ("ok", "select", {}, "options"),
        ("ok", "text", {"min": 1}, "does not apply"),
        ("ok", "text", {"pattern": "("}, "regular expression"),
        ("ok", "number", {"max": "ten"}, "max must be a number"),
    ],
)
def test_invalid_field_definitions(
    services: Services, system: Actor, name: str, kind: str, rules: dict, problem: str
) -> None:
    with pytest.raises(ValidationFailed, match=problem):
        services.schema.create_field(name, kind, system, validation=rules)
    assert services.schema.fields() == []


def test_duplicate_names_conflict(services: Services, system: Actor) -> None:
    services.schema.create_datatype("page", system)
    with pytest.raises(Conflict):
        services.schema.create_datatype("page", system)
    services.routes.create("/about", system)
    with pytest.raises(Conflict):
        services.routes.create("/about/", system)


@pytest.mark.parametrize("slug", ["about", "/About", "/a b", "/a//b", "/-x", "/x_y", "/ä"])
def test_bad_slugs_are_rejected(services: Services, system: Actor, slug: str) -> None:
    with pytest.raises(ValidationFailed, match="slug"):
        services.routes.create(slug, system)


def test_route_rename_and_delete(page_schema: Services, system: Actor) -> None:
    services = page_schema
    services.routes.create("/", system, title="Home")
    services.routes.create("/blog/hello-world", system)
    services.routes.update("/blog/hello-world", system, slug="/blog/hello", title="Hello")
    assert services.routes.get("/blog/hello").title == "Hello"
    services.content.create("/blog/hello", "page", {"title": "Hi"}, system)
    with pytest.raises(Conflict, match="holds 1 content"):
        services.routes.delete("/blog/hello", system)
    services.routes.delete("/blog/hello", system, force=True)
    with pytest.raises(NotFound):
        services.routes.get("/blog/hello")
    assert [r.slug for r in services.routes.list()] == ["/"]


def test_permissions_are_checked(services: Services) -> None:
    viewer = Actor(ActorKind.USER, "u1", "viewer", frozenset({"datatypes:read"}))
    with pytest.raises(Forbidden, match="datatypes:create"):
        services.schema.create_datatype("page", viewer)
    assert services.schema.datatypes() == []


def test_cached_field_definitions_follow_changes_from_another_process(tmp_path) -> None:
    from modulacms.app import build_app

    path = tmp_path / "shared.db"
    system = Actor.system()
    with build_app(path) as server, build_app(path) as cli:
        server.services.schema.create_datatype("page", system)
        server.services.routes.create("/", system)
        server.services.content.create("/", "page", {}, system)
        first = server.services.content.tree("/")
        assert first.root is not None and first.root.values == {}
        cli.services.schema.create_field("title", "text", system)
        cli.services.schema.attach("page", "title", system)
        tree = server.services.content.tree("/")
        assert tree.root is not None and tree.root.values == {"title": None}
        cli.services.schema.update_field("title", system, label="Headline")
        assert server.services.schema.fields_of("page")[0].field.label == "Headline"
