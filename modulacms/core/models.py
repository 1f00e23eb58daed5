"""Domain models: frozen dataclasses returned by repositories and services."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ActorKind(StrEnum):
    """Who performed a change, as recorded in the audit log."""

    USER = "user"
    SYSTEM = "system"
    PLUGIN = "plugin"


@dataclass(frozen=True, slots=True)
class Actor:
    """The one on whose behalf a service call runs.

    ``user_id`` is ``None`` for the system (scheduler, migrations, demo seeding) and for
    plugins (whose name is in ``name``). ``permissions`` holds ``resource:operation``
    labels; the system actor holds ``"*"``.
    """

    kind: ActorKind
    user_id: str | None = None
    name: str = ""
    permissions: frozenset[str] = frozenset()

    @classmethod
    def system(cls, name: str = "system") -> Actor:
        return cls(ActorKind.SYSTEM, None, name, frozenset({"*"}))

    @classmethod
    def plugin(cls, plugin_name: str) -> Actor:
        return cls(ActorKind.PLUGIN, None, plugin_name, frozenset({"*"}))

    def can(self, permission: str) -> bool:
        """True when the actor holds ``permission`` (or the wildcard)."""
        return "*" in self.permissions or permission in self.permissions


@dataclass(frozen=True, slots=True)
class ChangeEvent:
    """One row of the audit log."""

    event_id: str
    actor_id: str | None
    actor_kind: str
    actor_name: str
    table_name: str
    record_id: str
    operation: str
    old_values: dict[str, object] | None
    new_values: dict[str, object] | None
    date_created: str
