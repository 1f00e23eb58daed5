"""People: users, roles, permissions, API tokens and login sessions.

These models never carry a password hash or a token hash. Repositories keep those columns
to themselves and hand them out only through dedicated credential lookups, so a model can
be logged, serialised or shown in a table without leaking a secret.
"""

from __future__ import annotations

from dataclasses import dataclass

from modulacms.core.models import Actor


@dataclass(frozen=True, slots=True)
class Permission:
    """One ``resource:operation`` label of the catalogue (``core.permissions``)."""

    permission_id: str
    label: str
    description: str

    @property
    def resource(self) -> str:
        return self.label.partition(":")[0]

    @property
    def operation(self) -> str:
        return self.label.partition(":")[2]


@dataclass(frozen=True, slots=True)
class Role:
    """A named set of permissions; ``system`` roles (admin, editor, viewer) are read-only."""

    role_id: str
    name: str
    label: str
    system: bool
    permissions: frozenset[str]
    date_created: str
    date_modified: str


@dataclass(frozen=True, slots=True)
class User:
    """A person who can sign in; ``role_name`` is denormalised for display."""

    user_id: str
    email: str
    name: str
    role_id: str
    role_name: str
    is_active: bool
    date_created: str
    date_modified: str


@dataclass(frozen=True, slots=True)
class Token:
    """An API token as listed: its display ``prefix`` only, never the secret or its hash.

    Timestamps are RFC 3339 UTC text; ``expires_at`` None means the token never expires.
    """

    token_id: str
    user_id: str
    name: str
    prefix: str
    expires_at: str | None
    revoked_at: str | None
    last_used_at: str | None
    date_created: str

    def is_usable(self, at: str) -> bool:
        """True when the token is neither revoked nor expired at RFC 3339 time ``at``."""
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > at)


@dataclass(frozen=True, slots=True)
class TokenCreated:
    """A freshly created token; ``secret`` is the plaintext, shown this once only."""

    token: Token
    secret: str


@dataclass(frozen=True, slots=True)
class Session:
    """A login session (its cookie value is known only to the client)."""

    session_id: str
    user_id: str
    expires_at: str
    ip: str
    user_agent: str
    date_created: str
    last_seen: str


@dataclass(frozen=True, slots=True)
class LoginResult:
    """What a successful login returns: the session cookie value (plaintext, once), the
    session row, the user and the actor to run the rest of the request as."""

    token: str
    session: Session
    user: User
    actor: Actor
