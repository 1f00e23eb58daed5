"""Content lifecycle hook events and the dispatcher interface services call.

Services never import the plugin runtime. They call a ``HookDispatcher``: before-hooks
run inside the mutation's transaction and veto it by raising (any ``ModulaError``,
normally ``ValidationFailed``); after-hooks are queued with ``Database.after_commit`` and
run only once the transaction has committed. ``NullDispatcher`` is what runs when no
plugins are loaded.

Read hooks (``before_read``/``after_read``, spec §7.5) serve the public delivery endpoint
rather than a service: a dispatcher that has them offers them as its ``reads`` attribute
(a :class:`ReadHooks`); ``NullDispatcher.reads`` is ``None``, so the endpoint's cached
path pays one attribute lookup when no plugin runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
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


@dataclass(frozen=True, slots=True)
class ReadRequest:
    """What read hooks see of one delivery request: the route slug (``/about``), request
    headers by lower-case name and query parameters by name (first value of each), and
    the client address."""

    slug: str
    headers: Mapping[str, str]
    client_ip: str
    query: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class ReadAnswer:
    """A ``before_read`` hook's own response; delivery stops and this is sent instead.

    ``body`` is JSON-able data (sent as JSON) or ``None`` for an empty body; ``headers``
    have already been checked (no framing, cookie, CORS or other protected fields).
    """

    status: int
    headers: tuple[tuple[str, str], ...] = ()
    body: Any = None


ReadState = Mapping[str, Any] | None
"""What the ``before_read`` hooks left for the ``after_read`` hooks (opaque to callers)."""


class ReadHooks(Protocol):
    """The read hooks of the public delivery endpoint (spec §7.5). Never raise: a failing
    or slow hook is skipped, and the page is served as if it did not exist."""

    def active(self) -> bool:
        """True when an approved read hook for ``content_data`` could run (cheap)."""

    def before_read(self, request: ReadRequest) -> tuple[ReadAnswer | None, ReadState]:
        """Run the ``before_read`` chain: an answer that replaces delivery, or the state."""

    def after_read(self, request: ReadRequest, state: ReadState) -> list[tuple[str, str]]:
        """Run the ``after_read`` chain; the (checked) headers to add to the response."""


class NullDispatcher:
    """A dispatcher with no hooks installed."""

    reads: ReadHooks | None = None

    def before(self, event: HookEvent, table: str, row: dict[str, Any], actor: Actor) -> None:
        return None

    def after(self, event: HookEvent, table: str, row: dict[str, Any], actor: Actor) -> None:
        return None
