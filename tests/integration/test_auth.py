"""AuthService on a real SQLite file: logins, sessions, API tokens, and what gets stored."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from modulacms.core.models import Actor, ActorKind
from modulacms.core.people import Token, User
from modulacms.core.permissions import SYSTEM_ROLES
from modulacms.db.connection import Database
from modulacms.db.repositories.audit import AuditRepository
from modulacms.errors import Conflict, Forbidden, NotFound, Unauthorized, ValidationFailed
from modulacms.services.auth import (
    DEFAULT_SESSION_TTL,
    DISPLAY_PREFIX_LENGTH,
    TOKEN_PREFIX,
    AuthService,
)
from modulacms.services.users import UserService, seed_roles

SYSTEM = Actor.system()
PASSWORD = "s3cret-passphrase"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.moment = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, seconds: float) -> None:
        self.moment += timedelta(seconds=seconds)


@dataclass
class People:
    db: Database
    audit: AuditRepository
    users: UserService
    auth: AuthService
    clock: Clock

    def user(self, email: str, role: str = "viewer") -> User:
        return self.users.create(email, PASSWORD, SYSTEM, role=role)

    def actor(self, user: User) -> Actor:
        return self.auth.actor_for(user)

    def events(self, table: str) -> list[tuple[str, Any, Any]]:
        """(operation, old, new) of the audit rows of ``table``, in the order written."""
        rows = self.db.execute(
            "SELECT operation, old_values, new_values FROM change_events WHERE table_name = ? "
            "ORDER BY rowid",
            (table,),
        )
        return [(op, _json(old), _json(new)) for op, old, new in rows]


def _json(text: str | None) -> Any:
    return None if text is None else json.loads(text)


@pytest.fixture
def people(db: Database) -> People:
    audit = AuditRepository(db)
    seed_roles(db, audit)
    clock = Clock()
    return People(db, audit, UserService(db, audit), AuthService(db, audit, clock=clock), clock)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _count(db: Database, table: str) -> int:
    return int(db.scalar(f"SELECT count(*) FROM {table}"))


# actors -------------------------------------------------------------------------------


def test_actor_carries_the_role_permissions(people: People) -> None:
    user = people.user("ed@example.com", role="editor")
    actor = people.actor(user)
    assert actor == Actor(ActorKind.USER, user.user_id, "ed@example.com", SYSTEM_ROLES["editor"][1])
    assert actor.can("content:publish") and not actor.can("users:read")


# login and sessions -------------------------------------------------------------------


def test_login_opens_a_session_stored_as_a_hash(people: People) -> None:
    user = people.user("me@example.com", role="editor")
    result = people.auth.login("ME@example.com", PASSWORD, ip="10.0.0.1", user_agent="curl/8")
    assert result.user.user_id == user.user_id
    assert result.actor == people.actor(user)
    assert len(result.token) == 64 and int(result.token, 16) >= 0
    session = result.session
    assert (session.user_id, session.ip, session.user_agent) == (user.user_id, "10.0.0.1", "curl/8")
    assert session.date_created == "2030-01-01T12:00:00.000Z"
    expected_expiry = people.clock.moment + timedelta(seconds=DEFAULT_SESSION_TTL)
    assert session.expires_at == expected_expiry.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    stored = people.db.one("SELECT token_hash FROM sessions")
    assert stored == (_sha(result.token),)
    [(op, old, new)] = people.events("sessions")
    assert (op, old) == ("login", None)
    assert new == {
        "session_id": session.session_id,
        "user_id": user.user_id,
        "expires_at": session.expires_at,
        "ip": "10.0.0.1",
        "user_agent": "curl/8",
    }
    event = people.audit.list(table="sessions")[0][0]
    assert (event.actor_id, event.actor_name) == (user.user_id, "me@example.com")


def test_session_token_authenticates_until_logout(people: People) -> None:
    user = people.user("me@example.com")
    result = people.auth.login("me@example.com", PASSWORD)
    assert people.auth.authenticate_session(result.token) == people.actor(user)
    assert people.auth.authenticate(result.token) == people.actor(user)
    assert people.auth.current_session(result.token) == result.session
    assert people.auth.logout(result.token) is True
    assert people.auth.logout(result.token) is False
    assert people.auth.logout("") is False
    with pytest.raises(Unauthorized, match="not signed in"):
        people.auth.authenticate_session(result.token)
    ops = [op for op, _, _ in people.events("sessions")]
    assert ops == ["login", "logout"]


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("me@example.com", "wrong-password"),
        ("nobody@example.com", PASSWORD),
        ("", PASSWORD),
        ("me@example.com", ""),
        ("me@example.com", "x" * 5000),
    ],
)
def test_bad_logins_get_one_message(people: People, email: str, password: str) -> None:
    people.user("me@example.com")
    with pytest.raises(Unauthorized) as caught:
        people.auth.login(email, password)
    assert str(caught.value) == "invalid email or password"
    assert _count(people.db, "sessions") == 0


def test_disabled_accounts_cannot_log_in(people: People) -> None:
    user = people.user("off@example.com")
    people.users.update(user.user_id, SYSTEM, is_active=False)
    with pytest.raises(Unauthorized, match="disabled"):
        people.auth.login("off@example.com", PASSWORD)


def test_unknown_session_tokens_are_rejected(people: People) -> None:
    for token in ("", "made-up", TOKEN_PREFIX + "made-up"):
        with pytest.raises(Unauthorized):
            people.auth.authenticate(token)


def test_sessions_expire_and_are_pruned(people: People) -> None:
    people.user("me@example.com")
    auth = AuthService(people.db, people.audit, session_ttl=3600, clock=people.clock)
    old = auth.login("me@example.com", PASSWORD)
    people.clock.advance(1800)
    fresh = auth.login("me@example.com", PASSWORD)
    people.clock.advance(1800)
    with pytest.raises(Unauthorized, match="expired"):
        auth.authenticate_session(old.token)
    assert auth.sessions_repo.get(old.session.session_id) is None
    assert auth.authenticate_session(fresh.token).user_id == fresh.user.user_id
    people.clock.advance(3600)
    assert auth.prune_sessions() == 1
    assert auth.prune_sessions() == 0


def test_login_prunes_expired_sessions(people: People) -> None:
    people.user("me@example.com")
    people.auth.login("me@example.com", PASSWORD)
    people.clock.advance(DEFAULT_SESSION_TTL + 1)
    people.auth.login("me@example.com", PASSWORD)
    assert _count(people.db, "sessions") == 1


def test_session_ttl_must_be_positive(db: Database) -> None:
    with pytest.raises(ValueError, match="session_ttl"):
        AuthService(db, AuditRepository(db), session_ttl=0)


def test_last_seen_is_written_at_most_once_a_minute(people: People) -> None:
    people.user("me@example.com")
    result = people.auth.login("me@example.com", PASSWORD)
    first = result.session.last_seen
    people.clock.advance(30)
    people.auth.authenticate_session(result.token)
    assert people.auth.current_session(result.token).last_seen == first
    people.clock.advance(31)
    people.auth.authenticate_session(result.token)
    assert people.auth.current_session(result.token).last_seen == "2030-01-01T12:01:01.000Z"


def test_a_session_follows_role_changes_and_deactivation(people: People) -> None:
    user = people.user("me@example.com")
    result = people.auth.login("me@example.com", PASSWORD)
    people.users.update(user.user_id, SYSTEM, role="editor")
    assert people.auth.authenticate_session(result.token).can("content:update")
    with people.db.transaction() as conn:  # disabled behind the service's back
        conn.execute("UPDATE users SET is_active = 0")
    with pytest.raises(Unauthorized, match="disabled"):
        people.auth.authenticate_session(result.token)


# API tokens ---------------------------------------------------------------------------


def test_create_token_shows_the_secret_once_and_stores_its_hash(people: People) -> None:
    user = people.user("ed@example.com", role="editor")
    created = people.auth.create_token(" deploy ", people.actor(user))
    secret, token = created.secret, created.token
    assert secret.startswith(TOKEN_PREFIX) and len(secret) > 40
    assert token.prefix == secret[:DISPLAY_PREFIX_LENGTH]
    assert (token.name, token.user_id, token.expires_at, token.revoked_at) == (
        "deploy",
        user.user_id,
        None,
        None,
    )
    assert {f.name for f in fields(Token)}.isdisjoint({"secret", "token_hash", "hash"})
    row = people.db.one("SELECT token_hash, prefix FROM tokens")
    assert row == (_sha(secret), secret[:DISPLAY_PREFIX_LENGTH])
    [(op, old, new)] = people.events("tokens")
    assert (op, old) == ("create", None)
    assert new is not None and new["prefix"] == token.prefix
    assert secret not in str(new) and _sha(secret) not in str(new)


def test_token_authenticates_as_its_owner(people: People) -> None:
    user = people.user("ed@example.com", role="editor")
    created = people.auth.create_token("ci", people.actor(user))
    assert people.auth.authenticate_token(created.secret) == people.actor(user)
    assert people.auth.authenticate(created.secret) == people.actor(user)
    with pytest.raises(Unauthorized, match="invalid API token"):
        people.auth.authenticate_token(created.secret + "x")
    with pytest.raises(Unauthorized, match="invalid API token"):
        people.auth.authenticate_token("")


def test_expired_and_revoked_tokens_are_rejected(people: People) -> None:
    user = people.user("ed@example.com", role="editor")
    actor = people.actor(user)
    expiring = people.auth.create_token("short", actor, expires_at="2030-01-01T13:00:00Z")
    assert expiring.token.expires_at == "2030-01-01T13:00:00.000Z"
    revoked = people.auth.create_token("gone", actor)
    people.auth.authenticate_token(expiring.secret)
    people.auth.revoke_token(revoked.token.token_id, actor)
    with pytest.raises(Unauthorized, match="revoked"):
        people.auth.authenticate_token(revoked.secret)
    people.clock.advance(3600)
    with pytest.raises(Unauthorized, match="expired"):
        people.auth.authenticate_token(expiring.secret)


def test_tokens_of_disabled_users_are_rejected(people: People) -> None:
    user = people.user("ed@example.com", role="editor")
    created = people.auth.create_token("ci", people.actor(user))
    people.users.update(user.user_id, SYSTEM, is_active=False)
    with pytest.raises(Unauthorized, match="disabled"):
        people.auth.authenticate_token(created.secret)
    with pytest.raises(Conflict, match="disabled"):
        people.auth.create_token("another", SYSTEM, user_id=user.user_id)


def test_last_used_is_written_at_most_once_a_minute(people: People) -> None:
    user = people.user("ed@example.com", role="editor")
    actor = people.actor(user)
    created = people.auth.create_token("ci", actor)
    token_id = created.token.token_id
    people.auth.authenticate_token(created.secret)
    assert people.auth.token(token_id, actor).last_used_at == "2030-01-01T12:00:00.000Z"
    writes_before = people.db.data_version()
    people.clock.advance(59)
    for _ in range(20):
        people.auth.authenticate_token(created.secret)
    assert people.auth.token(token_id, actor).last_used_at == "2030-01-01T12:00:00.000Z"
    assert people.db.data_version() == writes_before
    people.clock.advance(2)
    people.auth.authenticate_token(created.secret)
    assert people.auth.token(token_id, actor).last_used_at == "2030-01-01T12:01:01.000Z"


@pytest.mark.parametrize(
    ("name", "expires_at", "field"),
    [
        ("", None, "name"),
        ("   ", None, "name"),
        ("x" * 101, None, "name"),
        ("ok", "tomorrow", "expires_at"),
        ("ok", "2029-12-31T00:00:00Z", "expires_at"),
        ("ok", datetime(2030, 1, 1, 11, 0), "expires_at"),
    ],
)
def test_token_input_is_validated(
    people: People, name: str, expires_at: str | datetime | None, field: str
) -> None:
    user = people.user("ed@example.com", role="editor")
    with pytest.raises(ValidationFailed) as caught:
        people.auth.create_token(name, people.actor(user), expires_at=expires_at)
    assert [e.field for e in caught.value.errors] == [field]
    assert _count(people.db, "tokens") == 0


def test_token_expiry_accepts_aware_and_naive_datetimes(people: People) -> None:
    actor = people.actor(people.user("ed@example.com", role="editor"))
    aware = datetime(2030, 6, 1, 14, 0, tzinfo=UTC) + timedelta(hours=0)
    naive = datetime(2030, 6, 1, 14, 0)
    assert people.auth.create_token("a", actor, expires_at=aware).token.expires_at == (
        "2030-06-01T14:00:00.000Z"
    )
    assert people.auth.create_token("b", actor, expires_at=naive).token.expires_at == (
        "2030-06-01T14:00:00.000Z"
    )


def test_the_system_actor_must_name_the_token_owner(people: People) -> None:
    with pytest.raises(ValidationFailed, match="user_id"):
        people.auth.create_token("ci", SYSTEM)
    with pytest.raises(NotFound):
        people.auth.create_token("ci", SYSTEM, user_id="01HZZZZZZZZZZZZZZZZZZZZZZZ")
    viewer = people.user("front@example.com")
    created = people.auth.create_token("next.js preview", SYSTEM, user_id=viewer.user_id)
    assert people.auth.authenticate_token(created.secret).can("content:read")


def test_token_permissions_own_versus_others(people: People) -> None:
    editor_user = people.user("ed@example.com", role="editor")
    other_user = people.user("ed2@example.com", role="editor")
    viewer_user = people.user("vi@example.com")
    admin = people.actor(people.user("admin@example.com", role="admin"))
    editor = people.actor(editor_user)
    mine = people.auth.create_token("mine", editor)
    theirs = people.auth.create_token("theirs", people.actor(other_user))
    with pytest.raises(Forbidden, match="tokens:admin"):
        people.auth.create_token("x", editor, user_id=other_user.user_id)
    with pytest.raises(Forbidden, match="tokens:admin"):
        people.auth.tokens(editor)
    with pytest.raises(Forbidden, match="tokens:admin"):
        people.auth.tokens(editor, user_id=other_user.user_id)
    with pytest.raises(Forbidden, match="tokens:admin"):
        people.auth.token(theirs.token.token_id, editor)
    with pytest.raises(Forbidden, match="tokens:admin"):
        people.auth.revoke_token(theirs.token.token_id, editor)
    with pytest.raises(Forbidden, match="tokens:create"):
        people.auth.create_token("x", people.actor(viewer_user))
    assert [t.name for t in people.auth.tokens(editor, user_id=editor_user.user_id)] == ["mine"]
    assert people.auth.token(mine.token.token_id, editor) == mine.token
    # an admin sees and manages everyone's
    assert {t.name for t in people.auth.tokens(admin)} == {"mine", "theirs"}
    people.auth.revoke_token(theirs.token.token_id, admin)
    for_other = people.auth.create_token("for ed2", admin, user_id=other_user.user_id)
    assert for_other.token.user_id == other_user.user_id


def test_token_admins_cannot_mint_tokens_above_their_rank(people: People) -> None:
    people.users.create_role("tokenmgr", SYSTEM, permissions=["tokens:admin", "content:read"])
    manager = people.actor(people.user("tm@example.com", role="tokenmgr"))
    admin = people.user("admin@example.com", role="admin")
    with pytest.raises(Forbidden, match="create a token for admin@example.com"):
        people.auth.create_token("steal", manager, user_id=admin.user_id)


def test_listing_never_shows_secrets_and_can_hide_revoked(people: People) -> None:
    actor = people.actor(people.user("ed@example.com", role="editor"))
    keep = people.auth.create_token("keep", actor)
    people.clock.advance(1)
    drop = people.auth.create_token("drop", actor)
    people.auth.revoke_token(drop.token.token_id, actor)
    listed = people.auth.tokens(actor, user_id=actor.user_id)
    assert [t.name for t in listed] == ["drop", "keep"]
    assert all(keep.secret not in repr(t) and drop.secret not in repr(t) for t in listed)
    at = "2030-01-01T12:00:05.000Z"
    assert [t.is_usable(at) for t in listed] == [False, True]
    visible = people.auth.tokens(actor, user_id=actor.user_id, include_revoked=False)
    assert [t.name for t in visible] == ["keep"]


def test_revoke_is_idempotent_and_audited_once(people: People) -> None:
    actor = people.actor(people.user("ed@example.com", role="editor"))
    created = people.auth.create_token("ci", actor)
    first = people.auth.revoke_token(created.token.token_id, actor)
    assert first.revoked_at == "2030-01-01T12:00:00.000Z"
    people.clock.advance(10)
    assert people.auth.revoke_token(created.token.token_id, actor) == first
    ops = [(op, old["revoked_at"] if old else None) for op, old, _ in people.events("tokens")]
    assert ops == [("create", None), ("revoke", None)]
    with pytest.raises(NotFound):
        people.auth.revoke_token("missing", actor)


def test_token_expiry_is_checked_against_usable(people: People) -> None:
    token = Token("t", "u", "n", "mcms_abcdefg", "2030-01-01T12:00:00.000Z", None, None, "x")
    assert token.is_usable("2030-01-01T11:59:59.999Z")
    assert not token.is_usable("2030-01-01T12:00:00.000Z")


# nothing secret ever reaches the disk -------------------------------------------------


def test_plaintext_secrets_never_reach_the_database_file(people: People, tmp_path: Path) -> None:
    user = people.user("ed@example.com", role="editor")
    login = people.auth.login("ed@example.com", PASSWORD)
    created = people.auth.create_token("ci", people.actor(user))
    people.auth.authenticate_token(created.secret)
    people.auth.authenticate_session(login.token)
    blob = b"".join(
        path.read_bytes() for path in tmp_path.iterdir() if path.name.startswith("modulacms.db")
    )
    assert b"ed@example.com" in blob  # the check does see what was written
    for secret in (PASSWORD, login.token, created.secret):
        assert secret.encode() not in blob
    audit_text = " ".join(
        (a or "") + (b or "")
        for a, b in people.db.execute("SELECT old_values, new_values FROM change_events")
    )
    for secret in (login.token, created.secret, _sha(login.token), _sha(created.secret)):
        assert secret not in audit_text
