"""People: users and roles (:class:`UserService`), and who is calling (:class:`AuthService`).

Rules kept here, whichever front end calls:

* Emails are unique regardless of case; passwords have at least 8 characters and are
  stored only as scrypt hashes (``core.passwords``).
* There is always an active admin: deleting, deactivating or demoting the last one fails
  with ``Conflict``.
* Nobody grants what they do not hold: assigning a role, defining a role, or creating a
  token for another user needs every permission that role or user carries.
* Everyone may read their own record, change their own email and name, and change their
  own password (giving the current one); changing a password or deactivating a user ends
  that user's sessions.
* Every mutation writes an audit row in its own transaction; audit rows never contain a
  password hash, a token, or a token hash.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from typing import Any

from modulacms.core.clock import now
from modulacms.core.events import HookDispatcher, HookEvent, NullDispatcher
from modulacms.core.ids import new_id
from modulacms.core.models import Actor
from modulacms.core.passwords import check_policy, hash_password, verify_password
from modulacms.core.people import Permission, Role, User
from modulacms.core.permissions import (
    ADMIN_ROLE,
    CATALOGUE,
    SYSTEM_ROLES,
    VIEWER_ROLE,
    Perm,
    require,
    unknown_labels,
)
from modulacms.core.validation import check_name
from modulacms.db.connection import Database
from modulacms.db.repositories.audit import AuditRepository
from modulacms.db.repositories.users import (
    RoleRepository,
    SessionRepository,
    UserRepository,
    role_row,
    user_row,
)
from modulacms.errors import Conflict, ErrorCollector, Forbidden, NotFound

MAX_PAGE = 500
MAX_NAME_LENGTH = 200
MAX_EMAIL_LENGTH = 254
_TABLE = "users"


def clean_email(email: str, errors: ErrorCollector, field: str = "email") -> str:
    """``email`` stripped; adds to ``errors`` when it is not a plausible address."""
    text = email.strip()
    local, at, domain = text.rpartition("@")
    if (
        not at
        or not local
        or "." not in domain.strip(".")
        or len(text) > MAX_EMAIL_LENGTH
        or any(ch.isspace() or ord(ch) < 32 for ch in text)
        or "@" in local
    ):
        errors.add(field, "expected an email address like name@example.com")
    return text


def _clean_name(name: str, errors: ErrorCollector) -> str:
    text = name.strip()
    if len(text) > MAX_NAME_LENGTH:
        errors.add("name", f"must be at most {MAX_NAME_LENGTH} characters long")
    return text


def check_grant(actor: Actor, labels: Iterable[str], action: str) -> None:
    """Raise ``Forbidden`` unless ``actor`` holds every label, so that nobody grants, or
    acts on someone holding, more than they hold themselves. ``action`` completes
    "may not ...", e.g. ``"grant the role editor"``."""
    missing = sorted(label for label in set(labels) if not actor.can(label))
    if missing:
        who = actor.name or actor.kind.value
        raise Forbidden(
            f"{who} may not {action}: it needs permissions {who} does not hold "
            f"({', '.join(missing)})",
            details={"missing": missing},
        )


def seed_roles(db: Database, audit: AuditRepository | None = None) -> bool:
    """Make the permission catalogue and the built-in roles match ``core.permissions``.

    Idempotent and cheap when nothing changed (reads only, no write lock), so it is safe
    to call every time a database is opened. Returns True when it wrote something; each
    created or re-synchronised role gets an audit row by the system actor.
    """
    roles = RoleRepository(db)
    if _seeded(roles):
        return False
    audit = audit or AuditRepository(db)
    system = Actor.system()
    with db.transaction():
        if _seeded(roles):  # another process got there first
            return False
        moment = now()
        have = roles.permission_labels()
        for label in CATALOGUE:
            if label not in have:
                roles.insert_permission(new_id(), label, moment)
        for name, (label, grants) in SYSTEM_ROLES.items():
            old = roles.by_name(name)
            if old is None:
                role = Role(new_id(), name, label, True, grants, moment, moment)
                roles.insert(role)
                roles.set_permissions(role.role_id, grants)
                audit.record(system, "roles", role.role_id, "create", None, role_row(role))
            elif old.permissions != grants or not old.system:
                # (a custom role that took a built-in name becomes that built-in role)
                new = Role(old.role_id, name, old.label, True, grants, old.date_created, moment)
                roles.update(new)
                roles.set_permissions(old.role_id, grants)
                audit.record(system, "roles", old.role_id, "update", role_row(old), role_row(new))
    return True


def _seeded(roles: RoleRepository) -> bool:
    if not set(CATALOGUE) <= roles.permission_labels():
        return False
    for name, (_, grants) in SYSTEM_ROLES.items():
        role = roles.by_name(name)
        if role is None or not role.system or role.permissions != grants:
            return False
    return True


class UserService:
    """Users, roles and the permission catalogue.

    Methods take the acting ``Actor`` and check its permission (``users:*``, ``roles:*``);
    the system actor may do everything. Raise ``NotFound``, ``ValidationFailed`` (every
    field problem at once), ``Conflict`` (duplicate email or role name, last admin,
    built-in role, role in use) and ``Forbidden``.
    """

    def __init__(
        self, db: Database, audit: AuditRepository, hooks: HookDispatcher | None = None
    ) -> None:
        self.db = db
        self.audit = audit
        self.repo = UserRepository(db)
        self.roles_repo = RoleRepository(db)
        self.sessions_repo = SessionRepository(db)
        self.hooks: HookDispatcher = hooks or NullDispatcher()

    # reading ----------------------------------------------------------------------------

    def list(
        self,
        actor: Actor,
        *,
        search: str | None = None,
        role: str | None = None,
        active: bool | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[User], int]:
        """One page of users by email (``search`` matches email or name) and the total."""
        require(actor, Perm.USERS_READ)
        role_id = None if role is None else self._role(role).role_id
        return self.repo.list(
            search=search,
            role_id=role_id,
            active=active,
            limit=max(1, min(limit, MAX_PAGE)),
            offset=max(0, offset),
        )

    def get(self, user_id: str, actor: Actor) -> User:
        """One user; anyone may read their own record. Raises ``NotFound``."""
        if actor.user_id != user_id:
            require(actor, Perm.USERS_READ)
        return self._user(user_id)

    def get_by_email(self, email: str, actor: Actor) -> User:
        """The user with ``email`` (any case). Raises ``NotFound``."""
        found = self.repo.by_email(email.strip())
        if found is None or found.user_id != actor.user_id:
            require(actor, Perm.USERS_READ)
        if found is None:
            raise NotFound("user", email)
        return found

    # writing ----------------------------------------------------------------------------

    def create(
        self,
        email: str,
        password: str,
        actor: Actor,
        *,
        name: str = "",
        role: str = VIEWER_ROLE,
        is_active: bool = True,
    ) -> User:
        """Create a user with ``role`` (name or id; viewer unless told otherwise)."""
        require(actor, Perm.USERS_CREATE)
        errors = ErrorCollector()
        clean = clean_email(email, errors)
        display = _clean_name(name, errors)
        check_policy(password, errors)
        errors.raise_if_any("invalid user")
        target = self._role(role)
        check_grant(actor, target.permissions, f"grant the role {target.name}")
        password_hash = hash_password(password)
        moment = now()
        user = User(
            new_id(), clean, display, target.role_id, target.name, is_active, moment, moment
        )
        with self.db.transaction():
            if self.repo.by_email(clean) is not None:
                raise Conflict(f"a user with email {clean} already exists")
            row = user_row(user)
            self.hooks.before(HookEvent.BEFORE_CREATE, _TABLE, dict(row), actor)
            self.repo.insert(user, password_hash)
            self.audit.record(actor, _TABLE, user.user_id, "create", None, row)
            self._after(HookEvent.AFTER_CREATE, row, actor)
        return user

    def update(
        self,
        user_id: str,
        actor: Actor,
        *,
        email: str | None = None,
        name: str | None = None,
        role: str | None = None,
        is_active: bool | None = None,
    ) -> User:
        """Change any of email, name, role (name or id) and the active flag.

        Anyone may change their own email and name; everything else needs ``users:update``.
        Deactivating a user ends their sessions.
        """
        if actor.user_id != user_id or role is not None or is_active is not None:
            require(actor, Perm.USERS_UPDATE)
        errors = ErrorCollector()
        new_email = None if email is None else clean_email(email, errors)
        new_name = None if name is None else _clean_name(name, errors)
        errors.raise_if_any("invalid user")
        target = None if role is None else self._role(role)
        with self.db.transaction():
            old = self._user(user_id)
            check_grant(actor, self._role(old.role_id).permissions, f"manage user {old.email}")
            if target is not None and target.role_id != old.role_id:
                check_grant(actor, target.permissions, f"grant the role {target.name}")
            new = User(
                old.user_id,
                old.email if new_email is None else new_email,
                old.name if new_name is None else new_name,
                old.role_id if target is None else target.role_id,
                old.role_name if target is None else target.name,
                old.is_active if is_active is None else is_active,
                old.date_created,
                now(),
            )
            if new.email.lower() != old.email.lower():
                clash = self.repo.by_email(new.email)
                if clash is not None and clash.user_id != old.user_id:
                    raise Conflict(f"a user with email {new.email} already exists")
            if _is_active_admin(old) and not _is_active_admin(new):
                self._keep_an_admin(old, "deactivate or demote")
            before = user_row(old)
            self.hooks.before(HookEvent.BEFORE_UPDATE, _TABLE, dict(before), actor)
            self.repo.update(new)
            if old.is_active and not new.is_active:
                self.sessions_repo.delete_for_user(old.user_id)
            self.audit.record(actor, _TABLE, old.user_id, "update", before, user_row(new))
            self._after(HookEvent.AFTER_UPDATE, before, actor)
        return new

    def set_password(
        self,
        user_id: str,
        new_password: str,
        actor: Actor,
        *,
        current_password: str | None = None,
        keep_session_id: str | None = None,
    ) -> None:
        """Replace a user's password and end their sessions (except ``keep_session_id``).

        Changing one's own password needs ``current_password``; anyone else's needs
        ``users:update``. A wrong or missing current password raises ``ValidationFailed``.
        """
        own = actor.user_id == user_id
        if not own:
            require(actor, Perm.USERS_UPDATE)
        errors = ErrorCollector()
        check_policy(new_password, errors)
        errors.raise_if_any("invalid password")
        user = self._user(user_id)
        if not own:
            check_grant(actor, self._role(user.role_id).permissions, f"manage user {user.email}")
        if own:
            stored = self.repo.password_hash(user_id) or ""
            if current_password is None or not verify_password(current_password, stored):
                errors.add("current_password", "is not correct")
                errors.raise_if_any("cannot change the password")
        password_hash = hash_password(new_password)
        with self.db.transaction():
            self._user(user_id)
            self.repo.set_hash(user_id, password_hash, now())
            ended = self.sessions_repo.delete_for_user(user_id, keep=keep_session_id)
            self.audit.record(
                actor, _TABLE, user_id, "set_password", None, {"sessions_ended": ended}
            )

    def delete(self, user_id: str, actor: Actor) -> None:
        """Delete a user with their sessions and tokens; never the last active admin."""
        require(actor, Perm.USERS_DELETE)
        with self.db.transaction():
            old = self._user(user_id)
            check_grant(actor, self._role(old.role_id).permissions, f"manage user {old.email}")
            if _is_active_admin(old):
                self._keep_an_admin(old, "delete")
            row = user_row(old)
            self.hooks.before(HookEvent.BEFORE_DELETE, _TABLE, dict(row), actor)
            self.repo.delete(user_id)
            self.audit.record(actor, _TABLE, user_id, "delete", row, None)
            self._after(HookEvent.AFTER_DELETE, row, actor)

    # roles and permissions --------------------------------------------------------------

    def roles(self, actor: Actor) -> builtins.list[Role]:
        """Every role with its permissions, built-in ones first."""
        require(actor, Perm.ROLES_READ)
        return self.roles_repo.all()

    def role(self, name_or_id: str, actor: Actor) -> Role:
        """One role by name or id. Raises ``NotFound``."""
        require(actor, Perm.ROLES_READ)
        return self._role(name_or_id)

    def permissions(self, actor: Actor) -> builtins.list[Permission]:
        """The permission catalogue as stored, with descriptions."""
        require(actor, Perm.ROLES_READ)
        return self.roles_repo.permissions()

    def create_role(
        self, name: str, actor: Actor, *, label: str = "", permissions: Iterable[str] = ()
    ) -> Role:
        """Define a custom role (lowercase name, labels from the catalogue)."""
        require(actor, Perm.ROLES_CREATE)
        grants = frozenset(permissions)
        errors = ErrorCollector()
        problem = check_name(name, "role name")
        if problem:
            errors.add("name", problem)
        _check_labels(grants, errors)
        errors.raise_if_any("invalid role")
        check_grant(actor, grants, f"grant the role {name}")
        moment = now()
        role = Role(new_id(), name, label.strip() or name, False, grants, moment, moment)
        with self.db.transaction():
            if self.roles_repo.by_name(name) is not None:
                raise Conflict(f"role {name} already exists")
            self.roles_repo.insert(role)
            self.roles_repo.set_permissions(role.role_id, grants)
            self.audit.record(actor, "roles", role.role_id, "create", None, role_row(role))
        return role

    def update_role(
        self,
        name_or_id: str,
        actor: Actor,
        *,
        label: str | None = None,
        permissions: Iterable[str] | None = None,
    ) -> Role:
        """Change a custom role's label and/or replace its permissions."""
        require(actor, Perm.ROLES_UPDATE)
        grants = None if permissions is None else frozenset(permissions)
        if grants is not None:
            errors = ErrorCollector()
            _check_labels(grants, errors)
            errors.raise_if_any("invalid role")
        with self.db.transaction():
            old = self._custom_role(name_or_id, "changed")
            if grants is not None:
                check_grant(actor, grants ^ old.permissions, f"change the role {old.name}")
            new = Role(
                old.role_id,
                old.name,
                old.label if label is None else (label.strip() or old.name),
                False,
                old.permissions if grants is None else grants,
                old.date_created,
                now(),
            )
            self.roles_repo.update(new)
            if grants is not None:
                self.roles_repo.set_permissions(new.role_id, grants)
            self.audit.record(actor, "roles", new.role_id, "update", role_row(old), role_row(new))
        return new

    def delete_role(self, name_or_id: str, actor: Actor) -> None:
        """Delete a custom role that no user holds."""
        require(actor, Perm.ROLES_DELETE)
        with self.db.transaction():
            old = self._custom_role(name_or_id, "deleted")
            holders = self.repo.count_in_role(old.role_id)
            if holders:
                raise Conflict(f"role {old.name} is held by {holders} user(s); reassign them first")
            self.roles_repo.delete(old.role_id)
            self.audit.record(actor, "roles", old.role_id, "delete", role_row(old), None)

    # helpers ----------------------------------------------------------------------------

    def _user(self, user_id: str) -> User:
        found = self.repo.get(user_id)
        if found is None:
            raise NotFound("user", user_id)
        return found

    def _role(self, name_or_id: str) -> Role:
        found = self.roles_repo.by_name(name_or_id) or self.roles_repo.get(name_or_id)
        if found is None:
            raise NotFound("role", name_or_id)
        return found

    def _custom_role(self, name_or_id: str, verb: str) -> Role:
        role = self._role(name_or_id)
        if role.system:
            raise Conflict(f"the built-in role {role.name} cannot be {verb}")
        return role

    def _keep_an_admin(self, user: User, verb: str) -> None:
        if self.repo.count_in_role(user.role_id, active_only=True) <= 1:
            raise Conflict(
                f"cannot {verb} {user.email}: they are the last active admin; "
                "make another user admin first"
            )

    def _after(self, event: HookEvent, row: dict[str, Any], actor: Actor) -> None:
        hooks = self.hooks
        self.db.after_commit(lambda: hooks.after(event, _TABLE, dict(row), actor))


def _is_active_admin(user: User) -> bool:
    return user.is_active and user.role_name == ADMIN_ROLE


def _check_labels(labels: Iterable[str], errors: ErrorCollector) -> None:
    unknown = unknown_labels(labels)
    if unknown:
        errors.add("permissions", f"unknown permission(s): {', '.join(unknown)}")
