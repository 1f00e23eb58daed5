"""UserService and seed_roles on a real SQLite file: users, roles, rules and audit rows."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import pytest

from modulacms.core.events import HookEvent
from modulacms.core.models import Actor
from modulacms.core.passwords import verify_password
from modulacms.core.people import User
from modulacms.core.permissions import CATALOGUE, SYSTEM_ROLES
from modulacms.db.connection import Database
from modulacms.db.migrate import migrate
from modulacms.db.repositories.audit import AuditRepository
from modulacms.errors import Conflict, Forbidden, NotFound, Unauthorized, ValidationFailed
from modulacms.services.auth import AuthService
from modulacms.services.users import UserService, seed_roles

SYSTEM = Actor.system()
PASSWORD = "s3cret-passphrase"


@dataclass
class People:
    db: Database
    audit: AuditRepository
    users: UserService
    auth: AuthService

    def user(self, email: str, role: str = "viewer", **kwargs: Any) -> User:
        return self.users.create(email, PASSWORD, SYSTEM, role=role, **kwargs)

    def actor(self, user: User) -> Actor:
        return self.auth.actor_for(user)

    def events(self, table: str, record_id: str | None = None) -> list[tuple[str, Any, Any]]:
        """(operation, old, new) of the audit rows of ``table``, in the order written."""
        rows = self.db.execute(
            "SELECT operation, old_values, new_values FROM change_events WHERE table_name = ? "
            "AND coalesce(?, record_id) = record_id ORDER BY rowid",
            (table, record_id),
        )
        return [(op, _json(old), _json(new)) for op, old, new in rows]


def _json(text: str | None) -> Any:
    return None if text is None else json.loads(text)


@pytest.fixture
def people(db: Database) -> People:
    audit = AuditRepository(db)
    seed_roles(db, audit)
    return People(db, audit, UserService(db, audit), AuthService(db, audit))


def _count(db: Database, table: str) -> int:
    return int(db.scalar(f"SELECT count(*) FROM {table}"))


# seeding ------------------------------------------------------------------------------


def test_seed_roles_creates_catalogue_and_builtin_roles(people: People) -> None:
    roles = {r.name: r for r in people.users.roles(SYSTEM)}
    assert list(roles) == ["admin", "editor", "viewer"]
    for name, (label, grants) in SYSTEM_ROLES.items():
        assert roles[name].system and roles[name].label == label
        assert roles[name].permissions == grants
    assert {p.label for p in people.users.permissions(SYSTEM)} == set(CATALOGUE)
    assert all(p.description for p in people.users.permissions(SYSTEM))
    assert [op for op, _, _ in people.events("roles")] == ["create"] * 3


def test_seed_roles_is_idempotent_and_writes_nothing_when_in_sync(people: People) -> None:
    before = (_count(people.db, "change_events"), _count(people.db, "role_permissions"))
    assert seed_roles(people.db) is False
    assert seed_roles(people.db) is False
    after = (_count(people.db, "change_events"), _count(people.db, "role_permissions"))
    assert after == before


def test_seed_roles_repairs_drifted_roles_and_missing_labels(people: People) -> None:
    with people.db.transaction() as conn:
        conn.execute("DELETE FROM permissions WHERE label = 'media:delete'")
        conn.execute("UPDATE roles SET system = 0 WHERE name = 'viewer'")
    editor = people.users.role("editor", SYSTEM)
    assert "media:delete" not in editor.permissions
    assert seed_roles(people.db) is True
    assert people.users.role("editor", SYSTEM).permissions == SYSTEM_ROLES["editor"][1]
    assert people.users.role("admin", SYSTEM).permissions == frozenset(CATALOGUE)
    assert people.users.role("viewer", SYSTEM).system
    updates = [(old, new) for op, old, new in people.events("roles") if op == "update"]
    assert len(updates) == 3  # admin and editor lost a grant; viewer lost its flag
    editor_update = next(u for u in updates if u[0]["name"] == "editor")
    assert "media:delete" in editor_update[1]["permissions"]
    assert "media:delete" not in editor_update[0]["permissions"]


def test_two_processes_seeding_at_once_seed_once(tmp_path: Path) -> None:
    first = Database(tmp_path / "shared.db")
    migrate(first)
    second = Database(tmp_path / "shared.db")
    results: list[bool] = []
    start = threading.Barrier(2)

    def seed(database: Database) -> None:
        start.wait()
        results.append(seed_roles(database))

    threads = [threading.Thread(target=seed, args=(d,)) for d in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False, True]
    assert first.scalar("SELECT count(*) FROM roles") == 3
    assert first.scalar("SELECT count(*) FROM change_events") == 3
    first.close()
    second.close()


# creating -----------------------------------------------------------------------------


def test_create_user_stores_a_hash_and_audits_without_it(people: People) -> None:
    user = people.user("Ann@Example.com", role="editor", name=" Ann ")
    assert (user.email, user.name, user.role_name, user.is_active) == (
        "Ann@Example.com",
        "Ann",
        "editor",
        True,
    )
    assert len(user.user_id) == 26
    assert "hash" not in {f.name for f in fields(User)}
    stored = people.db.scalar("SELECT hash FROM users WHERE user_id = ?", (user.user_id,))
    assert stored.startswith("scrypt$") and PASSWORD not in stored
    assert verify_password(PASSWORD, stored)
    [(op, old, new)] = people.events("users", user.user_id)
    assert (op, old) == ("create", None)
    assert new == {
        "user_id": user.user_id,
        "email": "Ann@Example.com",
        "name": "Ann",
        "role_id": user.role_id,
        "role": "editor",
        "is_active": True,
    }
    event = people.audit.list(table="users")[0][0]
    assert event.actor_kind == "system"


def test_create_user_defaults_to_viewer(people: People) -> None:
    assert people.users.create("v@example.com", PASSWORD, SYSTEM).role_name == "viewer"


def test_create_user_reports_every_problem_at_once(people: People) -> None:
    with pytest.raises(ValidationFailed) as caught:
        people.users.create("not-an-email", "short", SYSTEM, name="x" * 201)
    assert {e.field for e in caught.value.errors} == {"email", "password", "name"}
    assert _count(people.db, "users") == 0


@pytest.mark.parametrize(
    "email",
    ["", "plain", "@example.com", "a@", "a@localhost", "a b@example.com", "a@@example.com",
     "x" * 250 + "@example.com", "a\n@example.com", "a@exa\tmple.com"],
)  # fmt: skip
def test_implausible_emails_are_rejected(people: People, email: str) -> None:
    with pytest.raises(ValidationFailed, match="email"):
        people.users.create(email, PASSWORD, SYSTEM)


def test_emails_are_unique_regardless_of_case(people: People) -> None:
    people.user("dup@example.com")
    with pytest.raises(Conflict, match="already exists"):
        people.user("DUP@example.COM")
    assert _count(people.db, "users") == 1


def test_create_with_unknown_role_is_not_found(people: People) -> None:
    with pytest.raises(NotFound, match="role"):
        people.user("x@example.com", role="superuser")


def test_create_by_role_name_or_id(people: People) -> None:
    editor = people.users.role("editor", SYSTEM)
    assert people.user("e@example.com", role=editor.role_id).role_name == "editor"


def test_creating_users_needs_the_permission(people: People) -> None:
    editor = people.actor(people.user("ed@example.com", role="editor"))
    with pytest.raises(Forbidden, match="users:create"):
        people.users.create("new@example.com", PASSWORD, editor)
    with pytest.raises(Forbidden, match="users:read"):
        people.users.list(editor)


# reading ------------------------------------------------------------------------------


def test_everyone_reads_their_own_record_only(people: People) -> None:
    viewer_user = people.user("view@example.com")
    other = people.user("other@example.com")
    viewer = people.actor(viewer_user)
    assert people.users.get(viewer_user.user_id, viewer) == viewer_user
    assert people.users.get_by_email("VIEW@example.com", viewer) == viewer_user
    with pytest.raises(Forbidden):
        people.users.get(other.user_id, viewer)
    with pytest.raises(Forbidden):
        people.users.get_by_email("other@example.com", viewer)
    # no probing for addresses without users:read
    with pytest.raises(Forbidden):
        people.users.get_by_email("nobody@example.com", viewer)


def test_get_unknown_user_is_not_found(people: People) -> None:
    with pytest.raises(NotFound):
        people.users.get("01HZZZZZZZZZZZZZZZZZZZZZZZ", SYSTEM)
    with pytest.raises(NotFound):
        people.users.get_by_email("nobody@example.com", SYSTEM)


def test_list_filters_and_pages(people: People) -> None:
    people.user("carol@example.com", role="editor", name="Carol")
    people.user("alice@example.com", role="admin", name="Alice")
    people.user("bob@example.com", name="Bobby 100%")
    people.user("dave@example.com", is_active=False)
    page, total = people.users.list(SYSTEM, limit=2)
    assert total == 4 and [u.email for u in page] == ["alice@example.com", "bob@example.com"]
    page, total = people.users.list(SYSTEM, limit=2, offset=2)
    assert [u.email for u in page] == ["carol@example.com", "dave@example.com"]
    assert [u.email for u in people.users.list(SYSTEM, search="CAR")[0]] == ["carol@example.com"]
    assert [u.email for u in people.users.list(SYSTEM, search="100%")[0]] == ["bob@example.com"]
    assert people.users.list(SYSTEM, search="%")[1] == 1  # % is literal, not a wildcard
    assert [u.email for u in people.users.list(SYSTEM, role="viewer")[0]] == [
        "bob@example.com",
        "dave@example.com",
    ]
    assert [u.email for u in people.users.list(SYSTEM, active=False)[0]] == ["dave@example.com"]


# updating -----------------------------------------------------------------------------


def test_update_changes_fields_and_audits_old_and_new(people: People) -> None:
    user = people.user("u@example.com", name="U")
    updated = people.users.update(
        user.user_id, SYSTEM, email="new@example.com", name="New", role="editor"
    )
    assert (updated.email, updated.name, updated.role_name) == ("new@example.com", "New", "editor")
    assert people.users.get(user.user_id, SYSTEM) == updated
    op, old, new = people.events("users", user.user_id)[-1]
    assert op == "update"
    assert (old["email"], old["role"], new["email"], new["role"]) == (
        "u@example.com",
        "viewer",
        "new@example.com",
        "editor",
    )


def test_update_to_a_taken_email_conflicts(people: People) -> None:
    people.user("taken@example.com")
    user = people.user("me@example.com")
    with pytest.raises(Conflict):
        people.users.update(user.user_id, SYSTEM, email="TAKEN@example.com")
    # changing only the case of one's own address is fine
    assert people.users.update(user.user_id, SYSTEM, email="ME@example.com").email == (
        "ME@example.com"
    )


def test_update_validates_and_needs_the_permission(people: People) -> None:
    user = people.user("u@example.com")
    with pytest.raises(ValidationFailed, match="email"):
        people.users.update(user.user_id, SYSTEM, email="nope")
    with pytest.raises(NotFound):
        people.users.update("missing", SYSTEM, name="x")
    with pytest.raises(NotFound):
        people.users.update(user.user_id, SYSTEM, role="nope")
    me = people.actor(user)
    with pytest.raises(Forbidden, match="users:update"):
        people.users.update(user.user_id, me, role="admin")
    with pytest.raises(Forbidden, match="users:update"):
        people.users.update(user.user_id, me, is_active=False)
    other = people.user("other@example.com")
    with pytest.raises(Forbidden, match="users:update"):
        people.users.update(other.user_id, me, name="not mine")


def test_everyone_edits_their_own_email_and_name(people: People) -> None:
    user = people.user("u@example.com")
    me = people.actor(user)
    changed = people.users.update(user.user_id, me, name="Me", email="me@example.com")
    assert (changed.name, changed.email, changed.role_name) == ("Me", "me@example.com", "viewer")
    event = people.audit.list(table="users", operation="update")[0][0]
    assert event.actor_id == user.user_id


def test_deactivating_a_user_ends_their_sessions(people: People) -> None:
    user = people.user("u@example.com")
    login = people.auth.login("u@example.com", PASSWORD)
    people.users.update(user.user_id, SYSTEM, is_active=False)
    assert _count(people.db, "sessions") == 0
    assert people.users.get(user.user_id, SYSTEM).is_active is False
    with pytest.raises(Unauthorized):
        people.auth.authenticate_session(login.token)


# the last admin -----------------------------------------------------------------------


def test_the_last_active_admin_cannot_be_removed(people: People) -> None:
    admin = people.user("root@example.com", role="admin")
    people.user("former@example.com", role="admin", is_active=False)
    for attempt in (
        lambda: people.users.delete(admin.user_id, SYSTEM),
        lambda: people.users.update(admin.user_id, SYSTEM, is_active=False),
        lambda: people.users.update(admin.user_id, SYSTEM, role="editor"),
    ):
        with pytest.raises(Conflict, match="last active admin"):
            attempt()
    assert people.users.get(admin.user_id, SYSTEM).role_name == "admin"
    # renaming the last admin is fine
    people.users.update(admin.user_id, SYSTEM, name="Root")


def test_an_admin_can_go_once_another_is_active(people: People) -> None:
    first = people.user("one@example.com", role="admin")
    second = people.user("two@example.com", role="admin")
    people.users.update(first.user_id, people.actor(second), role="editor")
    with pytest.raises(Conflict):
        people.users.delete(second.user_id, people.actor(second))
    people.users.update(first.user_id, SYSTEM, role="admin")
    people.users.delete(second.user_id, people.actor(first))
    assert people.users.list(SYSTEM, role="admin")[1] == 1


# passwords ----------------------------------------------------------------------------


def test_changing_ones_own_password_needs_the_current_one(people: People) -> None:
    user = people.user("me@example.com")
    me = people.actor(user)
    with pytest.raises(ValidationFailed, match="current_password"):
        people.users.set_password(user.user_id, "brand-new-pass", me)
    with pytest.raises(ValidationFailed, match="current_password"):
        people.users.set_password(
            user.user_id, "brand-new-pass", me, current_password="wrong-password"
        )
    keep = people.auth.login("me@example.com", PASSWORD)
    other = people.auth.login("me@example.com", PASSWORD)
    people.users.set_password(
        user.user_id,
        "brand-new-pass",
        me,
        current_password=PASSWORD,
        keep_session_id=keep.session.session_id,
    )
    assert people.auth.authenticate_session(keep.token).user_id == user.user_id
    with pytest.raises(Unauthorized):
        people.auth.authenticate_session(other.token)
    with pytest.raises(Unauthorized):
        people.auth.login("me@example.com", PASSWORD)
    assert people.auth.login("me@example.com", "brand-new-pass").user.user_id == user.user_id
    op, old, new = people.events("users", user.user_id)[-1]
    assert (op, old, new) == ("set_password", None, {"sessions_ended": 1})


def test_setting_someone_elses_password(people: People) -> None:
    admin = people.actor(people.user("admin@example.com", role="admin"))
    editor_user = people.user("ed@example.com", role="editor")
    viewer_user = people.user("vi@example.com")
    people.users.set_password(viewer_user.user_id, "reset-by-admin", admin)
    assert people.auth.login("vi@example.com", "reset-by-admin").user.user_id == viewer_user.user_id
    with pytest.raises(Forbidden, match="users:update"):
        people.users.set_password(viewer_user.user_id, "reset-by-editor", people.actor(editor_user))
    with pytest.raises(ValidationFailed, match="at least 8"):
        people.users.set_password(viewer_user.user_id, "short", admin)
    with pytest.raises(NotFound):
        people.users.set_password("missing", "long-enough", admin)


# deleting -----------------------------------------------------------------------------


def test_delete_removes_user_tokens_and_sessions(people: People) -> None:
    user = people.user("gone@example.com", role="editor")
    people.auth.login("gone@example.com", PASSWORD)
    people.auth.create_token("ci", people.actor(user))
    people.users.delete(user.user_id, SYSTEM)
    assert (_count(people.db, "users"), _count(people.db, "tokens")) == (0, 0)
    assert _count(people.db, "sessions") == 0
    op, old, new = people.events("users", user.user_id)[-1]
    assert (op, old["email"], new) == ("delete", "gone@example.com", None)
    with pytest.raises(NotFound):
        people.users.delete(user.user_id, SYSTEM)


def test_delete_needs_the_permission(people: People) -> None:
    user = people.user("u@example.com")
    editor = people.actor(people.user("ed@example.com", role="editor"))
    with pytest.raises(Forbidden, match="users:delete"):
        people.users.delete(user.user_id, editor)


# nobody grants what they do not hold ---------------------------------------------------


def test_a_user_manager_cannot_escalate(people: People) -> None:
    people.users.create_role(
        "usermgr",
        SYSTEM,
        permissions=["users:read", "users:create", "users:update", "users:delete", "roles:read"]
        + sorted(SYSTEM_ROLES["viewer"][1]),
    )
    manager_user = people.user("mgr@example.com", role="usermgr")
    manager = people.actor(manager_user)
    viewer = people.users.create("v@example.com", PASSWORD, manager)
    admin = people.user("admin@example.com", role="admin")
    with pytest.raises(Forbidden, match="grant the role admin"):
        people.users.create("x@example.com", PASSWORD, manager, role="admin")
    with pytest.raises(Forbidden, match="grant the role editor"):
        people.users.update(viewer.user_id, manager, role="editor")
    with pytest.raises(Forbidden, match="grant the role admin"):
        people.users.update(manager_user.user_id, manager, role="admin")
    with pytest.raises(Forbidden, match="manage user admin@example.com"):
        people.users.set_password(admin.user_id, "taken-over!", manager)
    with pytest.raises(Forbidden, match="manage user admin@example.com"):
        people.users.update(admin.user_id, manager, email="mine@example.com")
    with pytest.raises(Forbidden, match="manage user admin@example.com"):
        people.users.delete(admin.user_id, manager)
    people.users.update(viewer.user_id, manager, name="Fine")
    people.users.delete(viewer.user_id, manager)


# roles --------------------------------------------------------------------------------


def test_custom_role_life_cycle(people: People) -> None:
    role = people.users.create_role(
        "reviewer", SYSTEM, label="Reviewer", permissions=["content:read", "content:publish"]
    )
    assert (role.system, role.permissions) == (
        False,
        frozenset({"content:read", "content:publish"}),
    )
    assert people.users.role(role.role_id, SYSTEM) == role
    user = people.user("rev@example.com", role="reviewer")
    assert people.actor(user).permissions == role.permissions
    changed = people.users.update_role("reviewer", SYSTEM, permissions=["content:read"])
    assert changed.permissions == {"content:read"} and changed.label == "Reviewer"
    # the change applies to the next request of every holder
    assert people.actor(user).permissions == {"content:read"}
    relabelled = people.users.update_role("reviewer", SYSTEM, label="Checks content")
    assert relabelled.label == "Checks content" and relabelled.permissions == {"content:read"}
    with pytest.raises(Conflict, match="held by 1 user"):
        people.users.delete_role("reviewer", SYSTEM)
    people.users.delete(user.user_id, SYSTEM)
    people.users.delete_role("reviewer", SYSTEM)
    with pytest.raises(NotFound):
        people.users.role("reviewer", SYSTEM)
    assert [op for op, _, _ in people.events("roles", role.role_id)] == [
        "create",
        "update",
        "update",
        "delete",
    ]


def test_role_validation(people: People) -> None:
    with pytest.raises(ValidationFailed) as caught:
        people.users.create_role("Bad Name", SYSTEM, permissions=["content:read", "root:all"])
    assert {e.field for e in caught.value.errors} == {"name", "permissions"}
    assert "root:all" in str(caught.value)
    with pytest.raises(Conflict, match="already exists"):
        people.users.create_role("editor", SYSTEM)
    people.users.create_role("custom", SYSTEM)
    with pytest.raises(ValidationFailed, match="unknown permission"):
        people.users.update_role("custom", SYSTEM, permissions=["nope:nope"])


def test_builtin_roles_are_read_only(people: People) -> None:
    for name in SYSTEM_ROLES:
        with pytest.raises(Conflict, match="built-in"):
            people.users.update_role(name, SYSTEM, label="Mine")
        with pytest.raises(Conflict, match="built-in"):
            people.users.delete_role(name, SYSTEM)


def test_roles_need_permissions(people: People) -> None:
    editor = people.actor(people.user("ed@example.com", role="editor"))
    with pytest.raises(Forbidden, match="roles:read"):
        people.users.roles(editor)
    with pytest.raises(Forbidden, match="roles:create"):
        people.users.create_role("x", editor)
    people.users.create_role("limited", SYSTEM, permissions=["roles:update", "content:read"])
    limited = people.actor(people.user("lim@example.com", role="limited"))
    with pytest.raises(Forbidden, match="users:delete"):
        people.users.update_role("limited", limited, permissions=["users:delete", "roles:update"])


# hooks --------------------------------------------------------------------------------


class Recorder:
    """A HookDispatcher that remembers calls and can veto one event."""

    def __init__(self, db: Database, veto: HookEvent | None = None) -> None:
        self.db = db
        self.veto = veto
        self.calls: list[tuple[str, str, str, bool]] = []

    def before(self, event: HookEvent, table: str, row: dict[str, Any], actor: Actor) -> None:
        self.calls.append((event.value, table, row["email"], self.db.in_transaction))
        if event == self.veto:
            raise ValidationFailed("vetoed by a plugin")

    def after(self, event: HookEvent, table: str, row: dict[str, Any], actor: Actor) -> None:
        self.calls.append((event.value, table, row["email"], self.db.in_transaction))


def test_user_writes_fire_hooks_around_the_transaction(people: People) -> None:
    recorder = Recorder(people.db)
    people.users.hooks = recorder
    user = people.user("h@example.com")
    people.users.update(user.user_id, SYSTEM, name="H")
    people.users.delete(user.user_id, SYSTEM)
    assert recorder.calls == [
        ("before_create", "users", "h@example.com", True),
        ("after_create", "users", "h@example.com", False),
        ("before_update", "users", "h@example.com", True),
        ("after_update", "users", "h@example.com", False),
        ("before_delete", "users", "h@example.com", True),
        ("after_delete", "users", "h@example.com", False),
    ]


def test_a_before_hook_vetoes_the_write_and_its_audit_row(people: People) -> None:
    people.users.hooks = Recorder(people.db, veto=HookEvent.BEFORE_CREATE)
    with pytest.raises(ValidationFailed, match="vetoed"):
        people.user("h@example.com")
    assert _count(people.db, "users") == 0
    assert people.events("users") == []


# secrets ------------------------------------------------------------------------------


def test_no_audit_row_ever_holds_a_hash_or_password(people: People) -> None:
    admin = people.user("admin@example.com", role="admin")
    user = people.user("u@example.com", role="editor")
    people.users.update(user.user_id, SYSTEM, name="Renamed", is_active=True)
    people.users.set_password(user.user_id, "another-password", people.actor(admin))
    people.users.delete(user.user_id, SYSTEM)
    hashes = [r[0] for r in people.db.execute("SELECT hash FROM users")]
    rows = people.db.execute("SELECT coalesce(old_values, ''), coalesce(new_values, '') FROM "
                             "change_events")  # fmt: skip
    text = " ".join(a + b for a, b in rows)
    assert "scrypt" not in text and '"hash"' not in text
    assert PASSWORD not in text and "another-password" not in text
    assert all(h not in text for h in hashes)
