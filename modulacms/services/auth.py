"""Who is calling: logins and sessions, API tokens, and the ``Actor`` they resolve to.

Secrets are random (``secrets.token_urlsafe``), handed to the caller once, and stored only
as their SHA-256, so a copy of the database does not let anyone sign in. A plain hash is
enough here (unlike passwords) because the secrets carry 256 random bits.

* API tokens look like ``mcms_<43 characters>``; listings show the first
  :data:`DISPLAY_PREFIX_LENGTH` characters so a user can tell tokens apart. Session
  tokens (the login cookie) are 64 hex digits, so :meth:`AuthService.authenticate` can
  tell the two apart from the value alone.
* A session is created by :meth:`AuthService.login` and lives :data:`DEFAULT_SESSION_TTL`
  seconds (absolute, not sliding). Expired sessions are rejected and deleted.
* ``last_used_at`` / ``last_seen`` are bookkeeping: written at most once per
  :data:`TOUCH_INTERVAL` seconds per token or session, and not audited. Login, logout,
  token creation and revocation are audited.

Rate-limiting login attempts is the HTTP layer's job (it knows the client address).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from modulacms.core.clock import format_ts, parse_ts
from modulacms.core.ids import new_id
from modulacms.core.models import Actor, ActorKind
from modulacms.core.passwords import MAX_PASSWORD_LENGTH, burn_time, verify_password
from modulacms.core.people import LoginResult, Session, Token, TokenCreated, User
from modulacms.core.permissions import Perm, require
from modulacms.db.connection import Database
from modulacms.db.repositories.audit import AuditRepository
from modulacms.db.repositories.users import (
    RoleRepository,
    SessionRepository,
    TokenRepository,
    UserRepository,
    session_row,
    token_row,
)
from modulacms.errors import Conflict, ErrorCollector, NotFound, Unauthorized
from modulacms.services.users import check_grant

TOKEN_PREFIX = "mcms_"
DISPLAY_PREFIX_LENGTH = 12
DEFAULT_SESSION_TTL = 7 * 24 * 3600
TOUCH_INTERVAL = 60
MAX_TOKEN_NAME = 100
_MAX_IP = 64
_MAX_USER_AGENT = 512
_BAD_LOGIN = "invalid email or password"


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _utc_now() -> datetime:
    return datetime.now(UTC)


class AuthService:
    """Sign-in, sign-out and credential checks; API token management.

    The ``authenticate*`` methods and :meth:`login` raise ``Unauthorized`` for anything
    that does not identify an active user. Token management takes the acting ``Actor``:
    one's own tokens need ``tokens:read`` / ``tokens:create`` / ``tokens:delete``, other
    users' tokens need ``tokens:admin`` (and, to create one, every permission that user
    holds). ``clock`` returns the current aware UTC time; tests pass their own.
    """

    def __init__(
        self,
        db: Database,
        audit: AuditRepository,
        *,
        session_ttl: int = DEFAULT_SESSION_TTL,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        if session_ttl <= 0:
            raise ValueError("session_ttl must be a positive number of seconds")
        self.db = db
        self.audit = audit
        self.session_ttl = session_ttl
        self.clock = clock
        self.users = UserRepository(db)
        self.roles = RoleRepository(db)
        self.tokens_repo = TokenRepository(db)
        self.sessions_repo = SessionRepository(db)

    # actors -----------------------------------------------------------------------------

    def actor_for(self, user: User) -> Actor:
        """The actor of ``user``: their id, email as name, their role's permissions."""
        return Actor(
            ActorKind.USER, user.user_id, user.email, self.roles.permissions_of(user.role_id)
        )

    def authenticate(self, credential: str) -> Actor:
        """Resolve a bearer value: an API token (``mcms_...``) or a session token."""
        if credential.startswith(TOKEN_PREFIX):
            return self.authenticate_token(credential)
        return self.authenticate_session(credential)

    # sessions ---------------------------------------------------------------------------

    def login(
        self, email: str, password: str, *, ip: str = "", user_agent: str = ""
    ) -> LoginResult:
        """Check the password and open a session; the result carries its token once.

        Raises ``Unauthorized`` with one message for an unknown email and a wrong password
        (both take the same time), and "account is disabled" for an inactive user whose
        password was right.
        """
        address = email.strip()
        found = None
        if address and len(password) <= MAX_PASSWORD_LENGTH:
            found = self.users.credentials(address)
        if found is None:
            burn_time(password[:MAX_PASSWORD_LENGTH])
            raise Unauthorized(_BAD_LOGIN)
        user, stored = found
        if not verify_password(password, stored):
            raise Unauthorized(_BAD_LOGIN)
        if not user.is_active:
            raise Unauthorized(f"account {user.email} is disabled")
        actor = self.actor_for(user)
        # hex never contains "_", so a session token can never look like an API token
        token = secrets.token_hex(32)
        moment = self.clock()
        at = format_ts(moment)
        session = Session(
            new_id(),
            user.user_id,
            format_ts(moment + timedelta(seconds=self.session_ttl)),
            ip[:_MAX_IP],
            user_agent[:_MAX_USER_AGENT],
            at,
            at,
        )
        with self.db.transaction():
            self.sessions_repo.prune(at)
            self.sessions_repo.insert(session, _digest(token))
            self.audit.record(
                actor, "sessions", session.session_id, "login", None, session_row(session)
            )
        return LoginResult(token, session, user, actor)

    def current_session(self, token: str) -> Session:
        """The live session of a session token; raises ``Unauthorized``."""
        session = self.sessions_repo.by_hash(_digest(token)) if token else None
        if session is None:
            raise Unauthorized("not signed in, or the session has ended")
        moment = self.clock()
        if session.expires_at <= format_ts(moment):
            with self.db.transaction():
                self.sessions_repo.delete(session.session_id)
            raise Unauthorized("the session has expired; sign in again")
        if self._stale(session.last_seen, moment):
            with self.db.transaction():
                self.sessions_repo.touch(session.session_id, format_ts(moment))
        return session

    def authenticate_session(self, token: str) -> Actor:
        """The actor of a live session token; raises ``Unauthorized``."""
        session = self.current_session(token)
        return self.actor_for(self._active_user(session.user_id))

    def logout(self, token: str) -> bool:
        """End the session of ``token``; False when there was none (already ended)."""
        session = self.sessions_repo.by_hash(_digest(token)) if token else None
        if session is None:
            return False
        with self.db.transaction():
            user = self.users.get(session.user_id)
            # the user (and with them the session) may have been deleted meanwhile
            if user is None or self.sessions_repo.get(session.session_id) is None:
                return False
            actor = self.actor_for(user)
            self.sessions_repo.delete(session.session_id)
            self.audit.record(
                actor, "sessions", session.session_id, "logout", session_row(session), None
            )
        return True

    def prune_sessions(self) -> int:
        """Delete every expired session; returns how many (housekeeping, not audited)."""
        with self.db.transaction():
            return self.sessions_repo.prune(format_ts(self.clock()))

    # API tokens -------------------------------------------------------------------------

    def create_token(
        self,
        name: str,
        actor: Actor,
        *,
        user_id: str | None = None,
        expires_at: str | datetime | None = None,
    ) -> TokenCreated:
        """Create an API token for ``user_id`` (default: the actor itself).

        ``expires_at`` is RFC 3339 text or an aware datetime in the future; None means
        the token does not expire. The plaintext is in the result and nowhere else.
        """
        owner_id = user_id or actor.user_id
        errors = ErrorCollector()
        label = name.strip()
        if not label:
            errors.add("name", "must not be empty")
        elif len(label) > MAX_TOKEN_NAME:
            errors.add("name", f"must be at most {MAX_TOKEN_NAME} characters long")
        if owner_id is None:
            errors.add("user_id", f"{actor.name or actor.kind.value} is not a user; name one")
        moment = self.clock()
        expiry = self._expiry(expires_at, moment, errors)
        errors.raise_if_any("invalid token")
        assert owner_id is not None
        self._may_manage(actor, owner_id, Perm.TOKENS_CREATE)
        owner = self.users.get(owner_id)
        if owner is None:
            raise NotFound("user", owner_id)
        if not owner.is_active:
            raise Conflict(f"user {owner.email} is disabled; enable the account first")
        if owner.user_id != actor.user_id:
            check_grant(
                actor,
                self.roles.permissions_of(owner.role_id),
                f"create a token for {owner.email}",
            )
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = Token(
            new_id(),
            owner.user_id,
            label,
            secret[:DISPLAY_PREFIX_LENGTH],
            expiry,
            None,
            None,
            format_ts(moment),
        )
        with self.db.transaction():
            self.tokens_repo.insert(token, _digest(secret))
            self.audit.record(actor, "tokens", token.token_id, "create", None, token_row(token))
        return TokenCreated(token, secret)

    def tokens(
        self, actor: Actor, *, user_id: str | None = None, include_revoked: bool = True
    ) -> list[Token]:
        """Tokens newest first: of ``user_id``, or of every user when it is None
        (which needs ``tokens:admin``)."""
        if user_id is None:
            require(actor, Perm.TOKENS_ADMIN)
        else:
            self._may_manage(actor, user_id, Perm.TOKENS_READ)
        return self.tokens_repo.list(user_id, include_revoked=include_revoked)

    def token(self, token_id: str, actor: Actor) -> Token:
        """One token (never its secret); raises ``NotFound``."""
        token = self._token(token_id)
        self._may_manage(actor, token.user_id, Perm.TOKENS_READ)
        return token

    def revoke_token(self, token_id: str, actor: Actor) -> Token:
        """Revoke a token (idempotent: revoking it again changes and records nothing)."""
        old = self._token(token_id)
        self._may_manage(actor, old.user_id, Perm.TOKENS_DELETE)
        if old.revoked_at is not None:
            return old
        with self.db.transaction():
            at = format_ts(self.clock())
            self.tokens_repo.revoke(token_id, at)
            new = self._token(token_id)
            self.audit.record(actor, "tokens", token_id, "revoke", token_row(old), token_row(new))
        return new

    def authenticate_token(self, secret: str) -> Actor:
        """The actor of an API token's owner; raises ``Unauthorized`` for an unknown,
        revoked or expired token, or a disabled owner."""
        token = self.tokens_repo.by_hash(_digest(secret)) if secret else None
        if token is None:
            raise Unauthorized("invalid API token")
        moment = self.clock()
        if token.revoked_at is not None:
            raise Unauthorized(f"API token {token.prefix}... has been revoked")
        if token.expires_at is not None and token.expires_at <= format_ts(moment):
            raise Unauthorized(f"API token {token.prefix}... has expired")
        user = self._active_user(token.user_id)
        if self._stale(token.last_used_at, moment):
            with self.db.transaction():
                self.tokens_repo.touch(token.token_id, format_ts(moment))
        return self.actor_for(user)

    # helpers ----------------------------------------------------------------------------

    def _active_user(self, user_id: str) -> User:
        user = self.users.get(user_id)
        if user is None:
            raise Unauthorized("the account no longer exists")
        if not user.is_active:
            raise Unauthorized(f"account {user.email} is disabled")
        return user

    def _token(self, token_id: str) -> Token:
        token = self.tokens_repo.get(token_id)
        if token is None:
            raise NotFound("token", token_id)
        return token

    def _may_manage(self, actor: Actor, owner_id: str, own: Perm) -> None:
        require(actor, own if actor.user_id == owner_id else Perm.TOKENS_ADMIN)

    def _stale(self, last: str | None, moment: datetime) -> bool:
        return last is None or last <= format_ts(moment - timedelta(seconds=TOUCH_INTERVAL))

    @staticmethod
    def _expiry(
        value: str | datetime | None, moment: datetime, errors: ErrorCollector
    ) -> str | None:
        if value is None:
            return None
        if isinstance(value, datetime):
            when = value if value.tzinfo else value.replace(tzinfo=UTC)
        else:
            try:
                when = parse_ts(value)
            except ValueError:
                errors.add("expires_at", "expected a time like 2026-12-31T00:00:00Z")
                return None
        if when <= moment:
            errors.add("expires_at", "must be in the future")
        return format_ts(when)
