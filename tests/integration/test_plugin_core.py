"""Plugin writes to core tables go through the services."""

from __future__ import annotations

import pytest

from modulacms.core.models import Actor, ContentStatus
from modulacms.db.connection import Database
from modulacms.errors import Conflict, QueryRejected, ValidationFailed
from modulacms.services.registry import Services


@pytest.fixture
def site(page_schema: Services, system: Actor) -> tuple[Services, str, str]:
    route = page_schema.routes.create("/", system)
    root = page_schema.content.create("/", "page", {"title": "root"}, system).content_data_id
    return page_schema, route.route_id, root


def test_insert_content_appends_under_the_parent_and_is_audited(site, db: Database) -> None:
    services, route_id, root = site
    dt = services.schema.datatype("page").datatype_id
    new_id = services.plugin_core.insert(
        "shop", "content_data", {"route_id": route_id, "datatype_id": dt, "parent_id": root}
    )
    tree = services.content.tree("/")
    assert tree.root is not None and [c.id for c in tree.root.children] == [new_id]
    event = db.one(
        "SELECT actor_kind, actor_name, operation FROM change_events WHERE record_id = ?", (new_id,)
    )
    assert event == ("plugin", "shop", "create")
    assert services.content.heal(Actor.system()).problems == ()


def test_pointer_columns_are_not_writable(site) -> None:
    services, route_id, root = site
    with pytest.raises(QueryRejected, match="next_sibling_id"):
        services.plugin_core.insert(
            "shop",
            "content_data",
            {"route_id": route_id, "datatype_id": "x", "next_sibling_id": root},
        )
    with pytest.raises(QueryRejected, match="root_id"):
        services.plugin_core.update(
            "shop", "content_data", {"root_id": "x"}, [{"content_data_id": root}]
        )


def test_field_values_are_validated(site) -> None:
    services, _, root = site
    field = services.schema.field("views").field_id
    row = {"content_data_id": root, "field_id": field}
    services.plugin_core.insert("shop", "content_fields", row | {"field_value": "12"})
    assert services.content.item(root).values["views"] == "12"
    with pytest.raises(Conflict, match="already has a value"):
        services.plugin_core.insert("shop", "content_fields", row | {"field_value": "13"})
    with pytest.raises(ValidationFailed, match="views: must be at least 0"):
        services.plugin_core.update("shop", "content_fields", {"field_value": "-1"}, [row])
    services.plugin_core.update("shop", "content_fields", {"field_value": "14"}, [row])
    services.plugin_core.delete("shop", "content_fields", [row])
    assert services.content.item(root).values["views"] is None


def test_moves_status_and_deletes_keep_the_tree_sound(site) -> None:
    services, _, root = site
    system = Actor.system()
    a = services.content.create("/", "page", {"title": "a"}, system).content_data_id
    b = services.content.create("/", "page", {"title": "b"}, system).content_data_id
    services.plugin_core.update("shop", "content_data", {"parent_id": a}, [{"content_data_id": b}])
    assert services.content.node(b).parent_id == a
    with pytest.raises(Conflict, match="own subtree"):
        services.plugin_core.update(
            "shop", "content_data", {"parent_id": b}, [{"content_data_id": a}]
        )
    services.plugin_core.update(
        "shop", "content_data", {"status": "archived"}, [{"content_data_id": a}]
    )
    assert services.content.node(a).status is ContentStatus.ARCHIVED
    with pytest.raises(ValidationFailed, match="publish the route"):
        services.plugin_core.update(
            "shop", "content_data", {"status": "published"}, [{"content_data_id": a}]
        )
    assert services.plugin_core.delete("shop", "content_data", [{"content_data_id": a}]) == 1
    assert [t.content_data_id for t in services.content.trash()] == [a]
    assert services.content.heal(system).problems == ()
    assert root


def test_safety_limit_and_media_rows(site) -> None:
    services, _, root = site
    with pytest.raises(QueryRejected, match="exceeding safety limit of 100"):
        services.plugin_core.delete("shop", "content_data", [{"content_data_id": root}] * 101)
    with pytest.raises(QueryRejected, match="media service"):
        services.plugin_core.insert("shop", "media", {"name": "x"})
    with pytest.raises(QueryRejected, match="cannot be written"):
        services.plugin_core.insert("shop", "users", {"email": "x@example.com"})
