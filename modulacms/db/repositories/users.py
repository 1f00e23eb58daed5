"""Users, roles, permissions, API tokens and login sessions.

Password hashes and token hashes never leave this module inside a model: they are written
by ``insert``/``set_hash`` and read only by :meth:`UserRepository.credentials` and the
``by_hash`` lookups, which take the hash as their key.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from modulacms.core.people import Permission, Role, Session, Token, User
from modulacms.core.permissions import describe
from modulacms.db.connection import Database, Row

_USER = (
    "u.user_id, u.email, u.name, u.role_id, r.name, u.is_active, u.date_created, u.date_modified"
)
_USER_FROM = "users u JOIN roles r ON r.role_id = u.role_id"
_ROLE = "role_id, name, label, system, date_created, date_modified"
_TOKEN = "token_id, user_id, name, prefix, expires_at, revoked_at, last_used_at, date_created"
_SESSION = "session_id, user_id, expires_at, ip, user_agent, date_created, last_seen"


def _user(row: Row) -> User:
    return User(row[0], row[1], row[2], row[3], row[4], bool(row[5]), row[6], row[7])


def _token(row: Row) -> Token:
    return Token(*row)


def _session(row: Row) -> Session:
    return Session(*row)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class UserRepository:
    """SQL for ``users``."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, user_id: str) -> User | None:
        row = self.db.one(f"SELECT {_USER} FROM {_USER_FROM} WHERE u.user_id = ?", (user_id,))
        return None if row is None else _user(row)

    def by_email(self, email: str) -> User | None:
        """The user with ``email``, compared case-insensitively."""
        row = self.db.one(f"SELECT {_USER} FROM {_USER_FROM} WHERE u.email = ?", (email,))
        return None if row is None else _user(row)

    def credentials(self, email: str) -> tuple[User, str] | None:
        """The user with ``email`` and their stored password hash (for login only)."""
        row = self.db.one(f"SELECT {_USER}, u.hash FROM {_USER_FROM} WHERE u.email = ?", (email,))
        return None if row is None else (_user(row), str(row[8]))

    def password_hash(self, user_id: str) -> str | None:
        """The stored hash of one user (for checking a current password)."""
        value = self.db.scalar("SELECT hash FROM users WHERE user_id = ?", (user_id,))
        return None if value is None else str(value)

    def list(
        self,
        *,
        search: str | None = None,
        role_id: str | None = None,
        active: bool | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[User], int]:
        """Users ordered by email, filtered; also the total before limit/offset."""
        clauses: list[str] = []
        params: list[Any] = []
        if search:
            clauses.append("(u.email LIKE ? ESCAPE '\\' OR u.name LIKE ? ESCAPE '\\')")
            pattern = f"%{_escape_like(search)}%"
            params += [pattern, pattern]
        if role_id is not None:
            clauses.append("u.role_id = ?")
            params.append(role_id)
        if active is not None:
            clauses.append("u.is_active = ?")
            params.append(int(active))
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        total = int(self.db.scalar(f"SELECT count(*) FROM {_USER_FROM} {where}", params))
        rows = self.db.execute(
            f"SELECT {_USER} FROM {_USER_FROM} {where} ORDER BY u.email LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )
        return [_user(r) for r in rows], total

    def insert(self, user: User, password_hash: str) -> None:
        self.db.connection().execute(
            "INSERT INTO users (user_id, email, name, hash, role_id, is_active, date_created, "
            "date_modified) VALUES (?,?,?,?,?,?,?,?)",
            (
                user.user_id,
                user.email,
                user.name,
                password_hash,
                user.role_id,
                int(user.is_active),
                user.date_created,
                user.date_modified,
            ),
        )

    def update(self, user: User) -> None:
        """Write email, name, role and active flag (never the hash)."""
        self.db.connection().execute(
            "UPDATE users SET email = ?, name = ?, role_id = ?, is_active = ?, date_modified = ? "
            "WHERE user_id = ?",
            (
                user.email,
                user.name,
                user.role_id,
                int(user.is_active),
                user.date_modified,
                user.user_id,
            ),
        )

    def set_hash(self, user_id: str, password_hash: str, date_modified: str) -> None:
        self.db.connection().execute(
            "UPDATE users SET hash = ?, date_modified = ? WHERE user_id = ?",
            (password_hash, date_modified, user_id),
        )

    def delete(self, user_id: str) -> None:
        self.db.connection().execute("DELETE FROM users WHERE user_id = ?", (user_id,))

    def count_in_role(self, role_id: str, *, active_only: bool = False) -> int:
        sql = "SELECT count(*) FROM users WHERE role_id = ?"
        if active_only:
            sql += " AND is_active = 1"
        return int(self.db.scalar(sql, (role_id,)))


class RoleRepository:
    """SQL for ``roles``, ``permissions`` and ``role_permissions``."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def _with_permissions(self, rows: list[Row]) -> list[Role]:
        if not rows:
            return []
        ids = [r[0] for r in rows]
        marks = ",".join("?" * len(ids))
        grants: dict[str, set[str]] = {role_id: set() for role_id in ids}
        for role_id, label in self.db.execute(
            "SELECT rp.role_id, p.label FROM role_permissions rp "
            "JOIN permissions p ON p.permission_id = rp.permission_id "
            f"WHERE rp.role_id IN ({marks})",
            ids,
        ):
            grants[role_id].add(label)
        return [
            Role(r[0], r[1], r[2], bool(r[3]), frozenset(grants[r[0]]), r[4], r[5]) for r in rows
        ]

    def all(self) -> list[Role]:
        """Every role, built-in ones first, then by name."""
        rows = self.db.execute(f"SELECT {_ROLE} FROM roles ORDER BY system DESC, name")
        return self._with_permissions(rows)

    def get(self, role_id: str) -> Role | None:
        rows = self.db.execute(f"SELECT {_ROLE} FROM roles WHERE role_id = ?", (role_id,))
        found = self._with_permissions(rows)
        return found[0] if found else None

    def by_name(self, name: str) -> Role | None:
        rows = self.db.execute(f"SELECT {_ROLE} FROM roles WHERE name = ?", (name,))
        found = self._with_permissions(rows)
        return found[0] if found else None

    def permissions_of(self, role_id: str) -> frozenset[str]:
        """The labels granted to one role (one indexed query; used per request)."""
        rows = self.db.execute(
            "SELECT p.label FROM role_permissions rp "
            "JOIN permissions p ON p.permission_id = rp.permission_id WHERE rp.role_id = ?",
            (role_id,),
        )
        return frozenset(r[0] for r in rows)

    def insert(self, role: Role) -> None:
        """Insert the role row; grant its permissions with :meth:`set_permissions`."""
        self.db.connection().execute(
            f"INSERT INTO roles ({_ROLE}) VALUES (?,?,?,?,?,?)",
            (
                role.role_id,
                role.name,
                role.label,
                int(role.system),
                role.date_created,
                role.date_modified,
            ),
        )

    def update(self, role: Role) -> None:
        """Write label, built-in flag and date (grants go through :meth:`set_permissions`)."""
        self.db.connection().execute(
            "UPDATE roles SET label = ?, system = ?, date_modified = ? WHERE role_id = ?",
            (role.label, int(role.system), role.date_modified, role.role_id),
        )

    def delete(self, role_id: str) -> None:
        self.db.connection().execute("DELETE FROM roles WHERE role_id = ?", (role_id,))

    def set_permissions(self, role_id: str, labels: Iterable[str]) -> None:
        """Replace the grants of a role; every label must exist in ``permissions``."""
        conn = self.db.connection()
        conn.execute("DELETE FROM role_permissions WHERE role_id = ?", (role_id,))
        conn.executemany(
            "INSERT INTO role_permissions (role_id, permission_id) "
            "SELECT ?, permission_id FROM permissions WHERE label = ?",
            [(role_id, label) for label in sorted(set(labels))],
        )

    def permissions(self) -> list[Permission]:
        """Every permission row, by label, with its catalogue description."""
        rows = self.db.execute("SELECT permission_id, label FROM permissions ORDER BY label")
        return [Permission(r[0], r[1], describe(r[1])) for r in rows]

    def permission_labels(self) -> set[str]:
        return {r[0] for r in self.db.execute("SELECT label FROM permissions")}

    def insert_permission(self, permission_id: str, label: str, date_created: str) -> None:
        self.db.connection().execute(
            "INSERT INTO permissions (permission_id, label, date_created) VALUES (?,?,?)",
            (permission_id, label, date_created),
        )


class TokenRepository:
    """SQL for ``tokens`` (API tokens, stored as the SHA-256 of the secret)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, token_id: str) -> Token | None:
        row = self.db.one(f"SELECT {_TOKEN} FROM tokens WHERE token_id = ?", (token_id,))
        return None if row is None else _token(row)

    def by_hash(self, token_hash: str) -> Token | None:
        row = self.db.one(f"SELECT {_TOKEN} FROM tokens WHERE token_hash = ?", (token_hash,))
        return None if row is None else _token(row)

    def list(self, user_id: str | None = None, *, include_revoked: bool = True) -> list[Token]:
        """Tokens newest first, of one user or of everyone."""
        clauses: list[str] = []
        params: list[Any] = []
        if user_id is not None:
            clauses.append("user_id = ?")
            params.append(user_id)
        if not include_revoked:
            clauses.append("revoked_at IS NULL")
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = self.db.execute(
            f"SELECT {_TOKEN} FROM tokens {where} ORDER BY date_created DESC, token_id DESC",
            params,
        )
        return [_token(r) for r in rows]

    def insert(self, token: Token, token_hash: str) -> None:
        self.db.connection().execute(
            f"INSERT INTO tokens ({_TOKEN}, token_hash) VALUES (?,?,?,?,?,?,?,?,?)",
            (
                token.token_id,
                token.user_id,
                token.name,
                token.prefix,
                token.expires_at,
                token.revoked_at,
                token.last_used_at,
                token.date_created,
                token_hash,
            ),
        )

    def revoke(self, token_id: str, at: str) -> None:
        self.db.connection().execute(
            "UPDATE tokens SET revoked_at = ? WHERE token_id = ? AND revoked_at IS NULL",
            (at, token_id),
        )

    def touch(self, token_id: str, at: str) -> None:
        self.db.connection().execute(
            "UPDATE tokens SET last_used_at = ? WHERE token_id = ?", (at, token_id)
        )


class SessionRepository:
    """SQL for ``sessions`` (stored as the SHA-256 of the cookie value)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, session_id: str) -> Session | None:
        row = self.db.one(f"SELECT {_SESSION} FROM sessions WHERE session_id = ?", (session_id,))
        return None if row is None else _session(row)

    def by_hash(self, token_hash: str) -> Session | None:
        row = self.db.one(f"SELECT {_SESSION} FROM sessions WHERE token_hash = ?", (token_hash,))
        return None if row is None else _session(row)

    def list(self, user_id: str) -> list[Session]:
        rows = self.db.execute(
            f"SELECT {_SESSION} FROM sessions WHERE user_id = ? ORDER BY date_created DESC",
            (user_id,),
        )
        return [_session(r) for r in rows]

    def insert(self, session: Session, token_hash: str) -> None:
        self.db.connection().execute(
            f"INSERT INTO sessions ({_SESSION}, token_hash) VALUES (?,?,?,?,?,?,?,?)",
            (
                session.session_id,
                session.user_id,
                session.expires_at,
                session.ip,
                session.user_agent,
                session.date_created,
                session.last_seen,
                token_hash,
            ),
        )

    def delete(self, session_id: str) -> None:
        self.db.connection().execute("DELETE FROM sessions WHERE session_id = ?", (session_id,))

    def delete_for_user(self, user_id: str, *, keep: str | None = None) -> int:
        """End every session of a user except ``keep``; returns how many ended."""
        conn = self.db.connection()
        conn.execute(
            "DELETE FROM sessions WHERE user_id = ? AND session_id IS NOT ?", (user_id, keep)
        )
        return int(conn.changes())

    def prune(self, now: str) -> int:
        """Delete sessions that expired before ``now``; returns how many."""
        conn = self.db.connection()
        conn.execute("DELETE FROM sessions WHERE expires_at <= ?", (now,))
        return int(conn.changes())

    def touch(self, session_id: str, at: str) -> None:
        self.db.connection().execute(
            "UPDATE sessions SET last_seen = ? WHERE session_id = ?", (at, session_id)
        )


def user_row(user: User) -> dict[str, Any]:
    """The audit/hook representation of a user (never the password hash)."""
    return {
        "user_id": user.user_id,
        "email": user.email,
        "name": user.name,
        "role_id": user.role_id,
        "role": user.role_name,
        "is_active": user.is_active,
    }


def role_row(role: Role) -> dict[str, Any]:
    """The audit representation of a role."""
    return {
        "role_id": role.role_id,
        "name": role.name,
        "label": role.label,
        "system": role.system,
        "permissions": sorted(role.permissions),
    }


def token_row(token: Token) -> dict[str, Any]:
    """The audit representation of a token (its display prefix, never the secret or hash)."""
    return {
        "token_id": token.token_id,
        "user_id": token.user_id,
        "name": token.name,
        "prefix": token.prefix,
        "expires_at": token.expires_at,
        "revoked_at": token.revoked_at,
    }


def session_row(session: Session) -> dict[str, Any]:
    """The audit representation of a session (never the cookie value or its hash)."""
    return {
        "session_id": session.session_id,
        "user_id": session.user_id,
        "expires_at": session.expires_at,
        "ip": session.ip,
        "user_agent": session.user_agent,
    }
