"""Publishing: snapshots, the published index, versions, restore, rollback, schedule."""

from __future__ import annotations

import pytest

from modulacms.core.clock import ago
from modulacms.core.models import Actor, ContentStatus
from modulacms.db.connection import Database
from modulacms.errors import Conflict, NotFound, ValidationFailed
from modulacms.services.registry import Services, build_services


@pytest.fixture
def about(page_schema: Services, system: Actor) -> Services:
    page_schema.routes.create("/about", system, title="About")
    root = page_schema.content.create("/about", "page", {"title": "About", "views": 3}, system)
    page_schema.content.create(
        "/about", "page", {"title": "Team"}, system, parent_id=root.content_data_id
    )
    return page_schema


def test_publish_freezes_the_tree(about: Services, system: Actor) -> None:
    version = about.publishing.publish("/about", system, note="first")
    assert (version.version, version.node_count, version.kind) == (1, 2, "published")
    root = about.content.tree("/about").root
    assert root is not None
    about.content.update(root.id, {"title": "Edited"}, root.node.revision, system)
    published = about.publishing.snapshot("/about")
    assert published.root is not None and published.root.values["title"] == "About"
    assert [c.values["title"] for c in published.root.children] == ["Team"]
    assert published.root.node.status is ContentStatus.PUBLISHED
    assert about.routes.get("/about").published_version_id == version.version_id


def test_published_index_holds_published_values(
    about: Services, system: Actor, db: Database
) -> None:
    about.publishing.publish("/about", system)
    rows = db.execute("SELECT value_text, value_num FROM published_fields ORDER BY value_text")
    assert ("3", 3.0) in rows
    about.publishing.unpublish("/about", system)
    assert db.scalar("SELECT count(*) FROM published_nodes") == 0
    with pytest.raises(NotFound, match="not published"):
        about.publishing.snapshot("/about")


def test_versions_are_pruned_but_served_one_kept(db: Database, system: Actor) -> None:
    services = build_services(db, versions_kept=3)
    services.routes.ensure_default_site()
    services.schema.create_datatype("page", system)
    services.routes.create("/", system)
    services.content.create("/", "page", {}, system)
    for _ in range(5):
        services.publishing.publish("/", system)
    assert [v.version for v in services.publishing.versions("/")] == [5, 4, 3]


def test_restore_keeps_the_replaced_draft_as_autosave(about: Services, system: Actor) -> None:
    about.publishing.publish("/about", system)
    root = about.content.tree("/about").root
    assert root is not None
    about.content.update(root.id, {"title": "Draft"}, root.node.revision, system)
    tree = about.publishing.restore("/about", 1, system)
    assert tree.root is not None and tree.root.values["title"] == "About"
    assert tree.root.node.status is ContentStatus.DRAFT
    versions = about.publishing.versions("/about")
    assert [(v.version, v.kind) for v in versions] == [(2, "autosave"), (1, "published")]
    autosave = about.publishing.snapshot("/about", 2)
    assert autosave.root is not None and autosave.root.values["title"] == "Draft"


def test_restore_keeps_trashed_subtrees(about: Services, system: Actor) -> None:
    about.publishing.publish("/about", system)
    root = about.content.tree("/about").root
    assert root is not None
    extra = about.content.create("/about", "page", {"title": "Extra"}, system, parent_id=root.id)
    about.content.delete(extra.content_data_id, system)
    about.publishing.restore("/about", 1, system)
    assert [t.content_data_id for t in about.content.trash()] == [extra.content_data_id]
    about.content.restore(extra.content_data_id, system)
    tree = about.content.tree("/about")
    assert tree.root is not None and [c.values["title"] for c in tree.root.children] == [
        "Team",
        "Extra",
    ]


def test_rollback_publishes_an_old_version(about: Services, system: Actor) -> None:
    about.publishing.publish("/about", system)
    root = about.content.tree("/about").root
    assert root is not None
    about.content.update(root.id, {"title": "Second"}, root.node.revision, system)
    about.publishing.publish("/about", system)
    about.publishing.rollback("/about", 1, system)
    served = about.publishing.snapshot("/about")
    assert served.root is not None and served.root.values["title"] == "About"


def test_schedule_and_publish_due(about: Services, system: Actor) -> None:
    with pytest.raises(ValidationFailed, match="future"):
        about.publishing.schedule("/about", ago(60), system)
    with pytest.raises(ValidationFailed, match="expected a time"):
        about.publishing.schedule("/about", "tomorrow", system)
    node = about.publishing.schedule("/about", "2999-01-01T00:00:00Z", system)
    assert node.status is ContentStatus.SCHEDULED
    assert about.publishing.publish_due() == []
    published = about.publishing.publish_due("3000-01-01T00:00:00.000Z")
    assert [v.version for v in published] == [1]
    assert about.publishing.publish_due("3000-01-01T00:00:00.000Z") == []


def test_cannot_publish_empty_or_unpublish_twice(page_schema: Services, system: Actor) -> None:
    page_schema.routes.create("/empty", system)
    with pytest.raises(Conflict, match="no content"):
        page_schema.publishing.publish("/empty", system)
    with pytest.raises(Conflict, match="not published"):
        page_schema.publishing.unpublish("/empty", system)
