"""Content service: create-with-fields, revisions, tree operations, trash, hooks, heal."""

from __future__ import annotations

from typing import Any

import pytest

from modulacms.core.events import HookEvent
from modulacms.core.models import Actor, ContentStatus
from modulacms.db.connection import Database
from modulacms.errors import Conflict, NotFound, ValidationFailed
from modulacms.services.registry import Services


def titles(services: Services, route: str = "/") -> list[str]:
    tree = services.content.tree(route)
    return [] if tree.root is None else [str(n.values["title"]) for n in tree.root.walk()]


@pytest.fixture
def site(page_schema: Services, system: Actor) -> Services:
    page_schema.routes.create("/", system, title="Home")
    page_schema.content.create("/", "page", {"title": "root"}, system)
    return page_schema


def add(services: Services, system: Actor, title: str, **position: Any) -> str:
    return services.content.create(
        "/", "page", {"title": title}, system, **position
    ).content_data_id


def test_create_with_fields_returns_ids_in_one_transaction(
    site: Services, system: Actor, db: Database
) -> None:
    created = site.content.create("/", "page", {"title": "A", "views": "12.0"}, system)
    assert set(created.content_field_ids) == {"title", "views"}
    item = site.content.item(created.content_data_id)
    assert item.values == {"title": "A", "views": "12"}
    assert item.node.revision == 1 and item.node.status is ContentStatus.DRAFT
    stored = db.execute(
        "SELECT content_field_id FROM content_fields WHERE content_data_id = ?",
        (created.content_data_id,),
    )
    assert {r[0] for r in stored} == set(created.content_field_ids.values())


def test_validation_collects_every_error_and_writes_nothing(
    site: Services, system: Actor, db: Database
) -> None:
    before = db.scalar("SELECT count(*) FROM content_data")
    with pytest.raises(ValidationFailed) as caught:
        site.content.create("/", "page", {"views": "-1", "colour": "red"}, system)
    assert {e.field for e in caught.value.errors} == {"title", "views", "colour"}
    assert db.scalar("SELECT count(*) FROM content_data") == before
    assert db.scalar("SELECT count(*) FROM change_events WHERE table_name = 'content_data'") == 1


def test_stale_revision_conflicts_and_writes_nothing(site: Services, system: Actor) -> None:
    node_id = add(site, system, "A")
    site.content.update(node_id, {"title": "B"}, 1, system)
    with pytest.raises(Conflict) as caught:
        site.content.update(node_id, {"title": "C"}, 1, system)
    assert caught.value.details["current_revision"] == 2
    item = site.content.item(node_id)
    assert item.values["title"] == "B" and item.node.revision == 2


def test_sibling_operations_keep_order(site: Services, system: Actor) -> None:
    b = add(site, system, "b")
    add(site, system, "d")
    add(site, system, "a", before=b)
    c = add(site, system, "c", after=b)
    assert titles(site) == ["root", "a", "b", "c", "d"]
    site.content.move(c, system, before=b)
    assert titles(site) == ["root", "a", "c", "b", "d"]
    root = site.content.tree("/").root
    assert root is not None
    site.content.reorder(root.id, list(reversed([c.id for c in root.children])), system)
    assert titles(site) == ["root", "d", "b", "c", "a"]


def test_move_subtree_refuses_cycles(site: Services, system: Actor) -> None:
    a = add(site, system, "a")
    child = add(site, system, "a1", parent_id=a)
    grandchild = add(site, system, "a11", parent_id=child)
    with pytest.raises(Conflict, match="own subtree"):
        site.content.move(a, system, parent_id=grandchild)
    with pytest.raises(Conflict, match="own subtree"):
        site.content.move(a, system, parent_id=a)
    b = add(site, system, "b")
    site.content.move(child, system, parent_id=b)
    assert titles(site) == ["root", "a", "b", "a1", "a11"]


def test_move_to_another_route_carries_the_subtree(site: Services, system: Actor) -> None:
    a = add(site, system, "a")
    add(site, system, "a1", parent_id=a)
    site.routes.create("/other", system)
    other_root = site.content.create("/other", "page", {"title": "other"}, system).content_data_id
    site.content.move(a, system, parent_id=other_root)
    assert titles(site, "/other") == ["other", "a", "a1"]
    assert titles(site) == ["root"]


def test_trash_restore_and_purge(site: Services, system: Actor, db: Database) -> None:
    a = add(site, system, "a")
    add(site, system, "a1", parent_id=a)
    add(site, system, "b")
    assert site.content.delete(a, system) == 2
    assert titles(site) == ["root", "b"]
    assert [t.node_count for t in site.content.trash()] == [2]
    with pytest.raises(Conflict, match="in the trash"):
        site.content.update(a, {"title": "x"}, 1, system)
    site.content.restore(a, system)
    assert titles(site) == ["root", "b", "a", "a1"]
    site.content.delete(a, system)
    assert site.content.purge(a, system) == 2
    with pytest.raises(NotFound):
        site.content.node(a)
    assert db.scalar("SELECT count(*) FROM content_fields WHERE content_data_id = ?", (a,)) == 0


def test_restoring_a_parent_keeps_earlier_trashed_children_in_the_trash(
    site: Services, system: Actor
) -> None:
    a = add(site, system, "a")
    a1 = add(site, system, "a1", parent_id=a)
    add(site, system, "a2", parent_id=a)
    site.content.delete(a1, system)
    site.content.delete(a, system)
    site.content.restore(a, system)
    assert titles(site) == ["root", "a", "a2"]
    assert {t.content_data_id for t in site.content.trash()} == {a1}


def test_unknown_route_datatype_and_node(site: Services, system: Actor) -> None:
    with pytest.raises(NotFound):
        site.content.create("/missing", "page", {"title": "x"}, system)
    with pytest.raises(NotFound):
        site.content.create("/", "nope", {}, system)
    with pytest.raises(NotFound):
        site.content.update("01ARZ3NDEKTSV4RRFFQ69G5FAV", {}, 1, system)


class Recorder:
    """A real dispatcher that records calls and can veto one event."""

    def __init__(self, db: Database, veto: HookEvent | None = None) -> None:
        self.db = db
        self.veto = veto
        self.calls: list[tuple[str, str, bool]] = []

    def before(self, event: HookEvent, table: str, row: dict[str, Any], actor: Actor) -> None:
        self.calls.append((event.value, table, self.db.in_transaction))
        if event == self.veto:
            raise ValidationFailed('operation blocked by plugin "test"')

    def after(self, event: HookEvent, table: str, row: dict[str, Any], actor: Actor) -> None:
        self.calls.append((event.value, table, self.db.in_transaction))


def test_hooks_fire_in_order_before_in_transaction_after_commit(
    site: Services, system: Actor, db: Database
) -> None:
    recorder = Recorder(db)
    site.set_hooks(recorder)
    node_id = add(site, system, "a")
    site.content.update(node_id, {"title": "b"}, 1, system)
    site.content.delete(node_id, system)
    site.publishing.publish("/", system)
    assert recorder.calls == [
        ("before_create", "content_data", True),
        ("after_create", "content_data", False),
        ("before_update", "content_data", True),
        ("after_update", "content_data", False),
        ("before_delete", "content_data", True),
        ("after_delete", "content_data", False),
        ("before_publish", "content_data", True),
        ("after_publish", "content_data", False),
    ]


def test_before_hook_veto_rolls_back_write_and_audit(
    site: Services, system: Actor, db: Database
) -> None:
    site.set_hooks(Recorder(db, veto=HookEvent.BEFORE_CREATE))
    nodes = db.scalar("SELECT count(*) FROM content_data")
    events = db.scalar("SELECT count(*) FROM change_events")
    with pytest.raises(ValidationFailed, match="blocked by plugin"):
        add(site, system, "vetoed")
    assert db.scalar("SELECT count(*) FROM content_data") == nodes
    assert db.scalar("SELECT count(*) FROM change_events") == events


def test_every_mutation_is_audited(site: Services, system: Actor) -> None:
    a = add(site, system, "a")
    site.content.update(a, {"title": "b"}, 1, system)
    site.content.delete(a, system)
    site.content.restore(a, system)
    events, _ = site.audit.list(system, record_id=a)
    assert [e.operation for e in reversed(events)] == ["create", "update", "delete", "restore"]
    assert events[2].old_values is not None and events[2].old_values["content_data_id"] == a


def test_heal_reports_and_repairs_broken_chains(
    site: Services, system: Actor, db: Database
) -> None:
    ids = [add(site, system, t) for t in "abcd"]
    with db.transaction() as conn:
        conn.execute(
            "UPDATE content_data SET next_sibling_id = NULL WHERE content_data_id = ?", (ids[1],)
        )
        conn.execute(
            "UPDATE content_data SET prev_sibling_id = ? WHERE content_data_id = ?",
            (ids[3], ids[0]),
        )
    report = site.content.heal(system)
    assert not report.repaired and len(report.problems) >= 2
    assert titles(site) == ["root", "a", "b", "c", "d"]  # assembly survives broken chains
    repaired = site.content.heal(system, repair=True)
    assert repaired.repaired
    assert site.content.heal(system).problems == ()
    assert titles(site) == ["root", "a", "b", "c", "d"]


def test_translated_values_fall_back_to_the_default_locale(site: Services, system: Actor) -> None:
    site.schema.create_field("summary", "text", system, translatable=True)
    site.schema.attach("page", "summary", system)
    node_id = add(site, system, "a")
    site.content.update(node_id, {"summary": "hello"}, 1, system)
    site.content.update(node_id, {"summary": "bonjour", "title": "titre"}, 2, system, locale="fr")
    french = site.content.item(node_id, "fr").values
    assert french == {"title": "titre", "views": None, "summary": "bonjour"}
    # title is not translatable: the French edit changed the one shared value
    assert site.content.item(node_id).values["summary"] == "hello"
    tree = site.content.tree("/", "fr")
    assert tree.root is not None
    child = tree.root.children[0]
    assert (child.values["summary"], child.values["title"]) == ("bonjour", "titre")
    german = site.content.tree("/", "de").root
    assert german is not None and german.children[0].values["summary"] == "hello"
