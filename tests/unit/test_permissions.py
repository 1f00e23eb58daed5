"""The permission catalogue, the built-in roles and the permission checks."""

from __future__ import annotations

import pytest

from modulacms.core.models import Actor, ActorKind
from modulacms.core.permissions import (
    ADMIN_ROLE,
    CATALOGUE,
    EDITOR_ROLE,
    SYSTEM_ROLES,
    VIEWER_ROLE,
    Perm,
    can,
    describe,
    require,
    unknown_labels,
)
from modulacms.errors import Forbidden

# Every resource DESIGN §5 names, with the operations a front end checks on it.
EXPECTED = {
    "routes": {"read", "create", "update", "delete"},
    "datatypes": {"read", "create", "update", "delete"},
    "fields": {"read", "create", "update", "delete"},
    "content": {"read", "create", "update", "delete", "publish"},
    "media": {"read", "create", "update", "delete"},
    "users": {"read", "create", "update", "delete"},
    "roles": {"read", "create", "update", "delete"},
    "tokens": {"read", "create", "delete", "admin"},
    "plugins": {"read", "admin"},
    "audit": {"read"},
    "metrics": {"read"},
}


def test_catalogue_covers_every_resource_and_operation() -> None:
    found: dict[str, set[str]] = {}
    for label in CATALOGUE:
        resource, _, operation = label.partition(":")
        found.setdefault(resource, set()).add(operation)
    assert found == EXPECTED


def test_labels_are_unique_and_well_formed() -> None:
    assert len(set(CATALOGUE)) == len(CATALOGUE)
    for label in CATALOGUE:
        resource, sep, operation = label.partition(":")
        assert sep and resource.isidentifier() and operation.isidentifier(), label


def test_every_label_has_a_description() -> None:
    for label in CATALOGUE:
        assert describe(label), label
    assert describe("routes:create") == "create routes"
    assert "publish" in describe(Perm.CONTENT_PUBLISH)
    assert describe("nope:nothing") == ""


def test_admin_holds_everything() -> None:
    assert SYSTEM_ROLES[ADMIN_ROLE][1] == frozenset(CATALOGUE)


def test_editor_works_on_content_and_media_and_reads_schema() -> None:
    grants = SYSTEM_ROLES[EDITOR_ROLE][1]
    for perm in Perm:
        if perm.value.startswith(("content:", "media:")):
            assert perm in grants, perm
    assert {Perm.ROUTES_READ, Perm.DATATYPES_READ, Perm.FIELDS_READ} <= grants
    assert Perm.CONTENT_PUBLISH in grants
    for forbidden in (
        Perm.ROUTES_CREATE,
        Perm.DATATYPES_UPDATE,
        Perm.FIELDS_DELETE,
        Perm.USERS_READ,
        Perm.ROLES_UPDATE,
        Perm.TOKENS_ADMIN,
        Perm.PLUGINS_ADMIN,
        Perm.AUDIT_READ,
    ):
        assert forbidden not in grants, forbidden


def test_viewer_only_reads() -> None:
    grants = SYSTEM_ROLES[VIEWER_ROLE][1]
    assert grants == {
        "routes:read",
        "datatypes:read",
        "fields:read",
        "content:read",
        "media:read",
    }
    assert all(label.endswith(":read") for label in grants)


def test_role_grants_come_from_the_catalogue() -> None:
    for _, grants in SYSTEM_ROLES.values():
        assert unknown_labels(grants) == []


def test_unknown_labels_are_reported_sorted_once() -> None:
    assert unknown_labels(["content:read", "x:y", "a:b", "x:y"]) == ["a:b", "x:y"]


def test_perm_members_compare_equal_to_their_labels() -> None:
    assert str(Perm.CONTENT_READ) == "content:read"
    assert {"content:read"} == {Perm.CONTENT_READ}
    actor = Actor(ActorKind.USER, "u1", "ed@example.com", frozenset({"content:read"}))
    assert can(actor, Perm.CONTENT_READ)
    assert not can(actor, Perm.CONTENT_UPDATE)


def test_system_and_plugin_actors_hold_everything() -> None:
    for actor in (Actor.system(), Actor.plugin("seo")):
        for label in CATALOGUE:
            assert can(actor, label)
            require(actor, label)


def test_require_names_the_actor_and_the_missing_permission() -> None:
    actor = Actor(ActorKind.USER, "u1", "viewer@example.com", frozenset({"content:read"}))
    require(actor, Perm.CONTENT_READ)
    with pytest.raises(Forbidden) as caught:
        require(actor, Perm.CONTENT_PUBLISH)
    message = str(caught.value)
    assert "viewer@example.com" in message
    assert "content:publish" in message
    assert "publish, unpublish and schedule routes" in message
    assert caught.value.details == {"permission": "content:publish"}
    assert caught.value.code == "forbidden"
