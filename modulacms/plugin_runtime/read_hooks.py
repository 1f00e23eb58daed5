"""Read hooks for the public delivery endpoint, offered to the HTTP layer without lupa.

:class:`RuntimeHooks` is the dispatcher a running :class:`PluginRuntime` installs into the
services: mutation hooks go straight to the :class:`HookEngine`, and its ``reads``
attribute (:class:`DeliveryReadHooks`, a :class:`modulacms.core.events.ReadHooks`) is what
``GET /api/v1/content/{slug}`` calls (spec §7.5).

What crosses back to the HTTP layer is checked here: an answer's status must be 200–599,
and header names must be tokens with values free of control characters. Headers that
belong to the server are dropped with a warning: framing (``Content-Length``,
``Transfer-Encoding``, ``Connection``, ``Content-Type``), the cached body's ``ETag``,
cookies, CORS and the fixed security headers. ``Cache-Control`` is allowed, so a hook
that makes delivery depend on the caller can keep shared caches from storing the page.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from modulacms.core.events import HookEvent, ReadAnswer, ReadRequest, ReadState
from modulacms.core.models import Actor
from modulacms.plugin_runtime.bridge import BLOCKED_HEADERS

if TYPE_CHECKING:
    from modulacms.plugin_runtime.hooks import HookEngine

log = logging.getLogger(__name__)

TABLE = "content_data"
PROTECTED = (BLOCKED_HEADERS - {"cache-control"}) | {"etag", "content-type"}
_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}")
_BAD_VALUE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_NO_BODY = frozenset({204, 304})


def checked_headers(
    pairs: Iterable[tuple[str, str]], event: str, warned: set[tuple[str, str]] | None = None
) -> list[tuple[str, str]]:
    """The pairs a read hook may set, in order; the rest are dropped and logged, once per
    distinct (event, name) when ``warned`` remembers them (read hooks run on every
    request: one line per header, not one per request)."""
    kept: list[tuple[str, str]] = []
    for name, value in pairs:
        if name.lower() in PROTECTED:
            why = "protected"
        elif not _NAME.fullmatch(name) or _BAD_VALUE.search(value) or len(value) > 8192:
            why = "malformed"
        else:
            kept.append((name, value))
            continue
        if warned is None or ((event, name) not in warned and len(warned) < 256):
            if warned is not None:
                warned.add((event, name))
            log.warning("%s hook: dropped %s header %r", event, why, name[:64])
    return kept


class DeliveryReadHooks:
    """:class:`modulacms.core.events.ReadHooks` over one hook engine."""

    def __init__(self, engine: HookEngine) -> None:
        self.engine = engine
        self._active: tuple[object, int, bool] | None = None
        self._warned: set[tuple[str, str]] = set()

    def active(self) -> bool:
        """Asked on every delivery request, so the answer is kept until the approval
        snapshot (replaced, never mutated, when approvals change) or the engine's
        registry generation changes. A read hook switched off by the breaker meanwhile
        only sends requests down the hooked path, where the chain is filtered again."""
        engine = self.engine
        snapshot, generation = engine.manager.approvals_snapshot, engine.generation
        cached = self._active
        if cached is not None and cached[0] is snapshot and cached[1] == generation:
            return cached[2]
        active = bool(engine.chain("before_read", TABLE) or engine.chain("after_read", TABLE))
        self._active = (snapshot, generation, active)
        return active

    def before_read(self, request: ReadRequest) -> tuple[ReadAnswer | None, ReadState]:
        try:
            response, state = self.engine.before_read(
                request.slug, request.headers, request.client_ip, request.query
            )
        except Exception:
            log.exception("before_read hooks failed for %s", request.slug)
            return None, None
        if response is None:
            return None, state
        if not 200 <= response.status <= 599:
            log.warning(
                "before_read hook answered %s with status %s; serving the page",
                request.slug,
                response.status,
            )
            return None, None
        headers = checked_headers(sorted(response.headers.items()), "before_read", self._warned)
        body = None if response.status in _NO_BODY else response.body
        return ReadAnswer(response.status, tuple(headers), body), None

    def after_read(self, request: ReadRequest, state: ReadState) -> list[tuple[str, str]]:
        data: dict[str, Any] = {
            "slug": request.slug,
            "headers": dict(request.headers),
            "client_ip": request.client_ip,
            "query": dict(request.query),
        }
        try:
            headers = self.engine.after_read(data, state)
        except Exception:
            log.exception("after_read hooks failed for %s", request.slug)
            return []
        return checked_headers(sorted(headers.items()), "after_read", self._warned)


class RuntimeHooks:
    """The services' hook dispatcher while a plugin runtime runs (see module docstring)."""

    def __init__(self, engine: HookEngine) -> None:
        self.engine = engine
        self.reads = DeliveryReadHooks(engine)

    def before(self, event: HookEvent, table: str, row: dict[str, Any], actor: Actor) -> None:
        self.engine.before(event, table, row, actor)

    def after(self, event: HookEvent, table: str, row: dict[str, Any], actor: Actor) -> None:
        self.engine.after(event, table, row, actor)
