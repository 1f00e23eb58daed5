"""The permission catalogue, the built-in roles, and the checks services run.

A permission is a ``resource:operation`` label. :class:`Perm` lists every label a service
or front end checks, so a typo is a type error rather than a silently denied request.
Which operation needs which label:

=============  ==================================================================
label          covers
=============  ==================================================================
routes:*       read / create / update / delete routes (and sites)
datatypes:*    read / create / update / delete datatypes and their field lists
fields:*       read / create / update / delete reusable field definitions
content:read   read draft trees, preview, versions, the trash
content:create create nodes with their field values
content:update update values (with revision), move, reorder, restore a version
content:delete delete to the trash, restore from it, purge it
content:publish publish, unpublish and schedule routes
media:*        read / create / update / delete media
users:*        read / create / update / delete users (incl. setting passwords)
roles:*        read / create / update / delete roles
tokens:read    list one's own API tokens (``create`` / ``delete`` likewise)
tokens:admin   list, create and revoke API tokens of any user
plugins:read   list plugins, their routes, hooks and requests
plugins:admin  enable, disable, reload, approve and revoke
audit:read     read the activity log
metrics:read   read ``/api/v1/admin/metrics``
=============  ==================================================================

Built-in roles (re-synchronised with this module whenever a database is opened, so a new
label reaches ``admin`` without a migration):

* ``admin``: every label.
* ``editor``: all of content and media, publishing, read access to routes, datatypes and
  fields, and its own API tokens.
* ``viewer``: read-only access to routes, datatypes, fields, content (including preview)
  and media. A front end that needs preview access gets a viewer user and a token
  created for it by an admin.

Everyone may read their own user record, change their own password (giving the current
one) and sign out; those need no label.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from modulacms.core.models import Actor
from modulacms.errors import Forbidden


class Perm(StrEnum):
    """Every permission label; the value is the label stored in the database."""

    ROUTES_READ = "routes:read"
    ROUTES_CREATE = "routes:create"
    ROUTES_UPDATE = "routes:update"
    ROUTES_DELETE = "routes:delete"
    DATATYPES_READ = "datatypes:read"
    DATATYPES_CREATE = "datatypes:create"
    DATATYPES_UPDATE = "datatypes:update"
    DATATYPES_DELETE = "datatypes:delete"
    FIELDS_READ = "fields:read"
    FIELDS_CREATE = "fields:create"
    FIELDS_UPDATE = "fields:update"
    FIELDS_DELETE = "fields:delete"
    CONTENT_READ = "content:read"
    CONTENT_CREATE = "content:create"
    CONTENT_UPDATE = "content:update"
    CONTENT_DELETE = "content:delete"
    CONTENT_PUBLISH = "content:publish"
    MEDIA_READ = "media:read"
    MEDIA_CREATE = "media:create"
    MEDIA_UPDATE = "media:update"
    MEDIA_DELETE = "media:delete"
    USERS_READ = "users:read"
    USERS_CREATE = "users:create"
    USERS_UPDATE = "users:update"
    USERS_DELETE = "users:delete"
    ROLES_READ = "roles:read"
    ROLES_CREATE = "roles:create"
    ROLES_UPDATE = "roles:update"
    ROLES_DELETE = "roles:delete"
    TOKENS_READ = "tokens:read"
    TOKENS_CREATE = "tokens:create"
    TOKENS_DELETE = "tokens:delete"
    TOKENS_ADMIN = "tokens:admin"
    PLUGINS_READ = "plugins:read"
    PLUGINS_ADMIN = "plugins:admin"
    AUDIT_READ = "audit:read"
    METRICS_READ = "metrics:read"


_VERBS = {
    "read": "read",
    "create": "create",
    "update": "change",
    "delete": "delete",
}

_SPECIAL = {
    Perm.CONTENT_READ: "read draft content, preview, versions and the trash",
    Perm.CONTENT_UPDATE: "edit content: values, move, reorder, restore versions",
    Perm.CONTENT_DELETE: "delete content to the trash, restore and purge it",
    Perm.CONTENT_PUBLISH: "publish, unpublish and schedule routes",
    Perm.USERS_UPDATE: "change users, their roles and passwords",
    Perm.TOKENS_READ: "list one's own API tokens",
    Perm.TOKENS_CREATE: "create API tokens for oneself",
    Perm.TOKENS_DELETE: "revoke one's own API tokens",
    Perm.TOKENS_ADMIN: "list, create and revoke API tokens of any user",
    Perm.PLUGINS_READ: "list plugins, their routes, hooks and requests",
    Perm.PLUGINS_ADMIN: "enable, disable, reload plugins; approve and revoke access",
    Perm.AUDIT_READ: "read the activity log",
    Perm.METRICS_READ: "read server metrics",
}


def describe(label: str) -> str:
    """A one-line description of a catalogue label (empty for an unknown label)."""
    try:
        perm = Perm(label)
    except ValueError:
        return ""
    if perm in _SPECIAL:
        return _SPECIAL[perm]
    resource, _, operation = perm.value.partition(":")
    return f"{_VERBS.get(operation, operation)} {resource}"


CATALOGUE: tuple[str, ...] = tuple(p.value for p in Perm)
"""Every label, in a stable order (resource by resource)."""

_EDITOR = frozenset(
    {p.value for p in Perm if p.value.startswith(("content:", "media:"))}
    | {
        Perm.ROUTES_READ.value,
        Perm.DATATYPES_READ.value,
        Perm.FIELDS_READ.value,
        Perm.TOKENS_READ.value,
        Perm.TOKENS_CREATE.value,
        Perm.TOKENS_DELETE.value,
    }
)

_VIEWER = frozenset(
    {
        Perm.ROUTES_READ.value,
        Perm.DATATYPES_READ.value,
        Perm.FIELDS_READ.value,
        Perm.CONTENT_READ.value,
        Perm.MEDIA_READ.value,
    }
)

ADMIN_ROLE = "admin"
EDITOR_ROLE = "editor"
VIEWER_ROLE = "viewer"

SYSTEM_ROLES: dict[str, tuple[str, frozenset[str]]] = {
    ADMIN_ROLE: ("Administrator", frozenset(CATALOGUE)),
    EDITOR_ROLE: ("Editor", _EDITOR),
    VIEWER_ROLE: ("Viewer", _VIEWER),
}
"""Built-in role name -> (label, permission labels)."""


def can(actor: Actor, permission: str) -> bool:
    """True when ``actor`` holds ``permission`` (the system actor holds everything)."""
    return actor.can(permission)


def require(actor: Actor, permission: str) -> None:
    """Raise ``Forbidden`` unless ``actor`` holds ``permission``."""
    if not actor.can(permission):
        who = actor.name or actor.kind.value
        raise Forbidden(
            f"{who} lacks the permission {permission} ({describe(permission) or 'unknown'})",
            details={"permission": permission},
        )


def unknown_labels(labels: Iterable[str]) -> list[str]:
    """The members of ``labels`` that are not in the catalogue, sorted."""
    known = set(CATALOGUE)
    return sorted({label for label in labels if label not in known})
