"""Content lifecycle hook events and the dispatcher interface services call.

Services never import the plugin runtime. They call a ``HookDispatcher``: before-hooks
run inside the mutation's transaction and veto it by raising (any ``ModulaError``,
normally ``ValidationFailed``); after-hooks are queued with ``Database.after_commit`` and
run only once the transaction has committed. ``NullDispatcher`` is what runs when no
plugins are loaded.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Protocol

from modulacms.core.models import Actor


class HookEvent(StrEnum):
    """The events of the plugin API's ``hooks.on`` (spec §7.1)."""

    BEFORE_CREATE = "before_create"
    AFTER_CREATE = "after_create"
    BEFORE_UPDATE = "before_update"
    AFTER_UPDATE = "after_update"
    BEFORE_DELETE = "before_delete"
    AFTER_DELETE = "after_delete"
    BEFORE_PUBLISH = "before_publish"
    AFTER_PUBLISH = "after_publish"
    BEFORE_READ = "before_read"
    AFTER_READ = "after_read"

    @property
    def is_before(self) -> bool:
        return self.value.startswith("before_")


class HookDispatcher(Protocol):
    """What services call at each mutation point.

    ``row`` is the entity as JSON-able values: for create the row as created, for update,
    publish and delete the row before the change. A dispatcher must not let the caller's
    dict be modified by handlers.
    """

    def before(self, event: HookEvent, table: str, row: dict[str, Any], actor: Actor) -> None:
        """Run the before-hooks; raise a ``ModulaError`` to abort the write."""

    def after(self, event: HookEvent, table: str, row: dict[str, Any], actor: Actor) -> None:
        """Run the after-hooks (called after commit); must not raise."""


class NullDispatcher:
    """A dispatcher with no hooks installed."""

    def before(self, event: HookEvent, table: str, row: dict[str, Any], actor: Actor) -> None:
        return None

    def after(self, event: HookEvent, table: str, row: dict[str, Any], actor: Actor) -> None:
        return None
