"""The delivery cache: rendered bytes per (site, slug, format, locale) with a strong ETag.

A published snapshot never changes, so its rendered bytes stay valid until the route's
``published_version_id`` (or its slug) changes: on publish, unpublish, restore, rename or
delete. In-process handlers that do those things call :meth:`ResponseCache.invalidate_route`
directly. Changes made by another process (the TUI, the CLI, another worker) are caught by
:class:`ChangeWatcher`, which polls a cheap change token from the services and, when it
moves, re-checks the version of every cached route in one call.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

CacheKey = tuple[str, str, str, str]
"""(site id, slug, format, locale)."""

RouteState = Callable[[list[str]], dict[str, tuple[str, str | None]]]
"""Given route ids, returns ``{route_id: (slug, published_version_id)}`` for those that exist."""


@dataclass(frozen=True, slots=True)
class CachedBody:
    """One rendered delivery response and what it was rendered from."""

    body: bytes
    etag: str
    route_id: str
    slug: str
    version_id: str


def strong_etag(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


def etag_matches(if_none_match: str, etag: str) -> bool:
    """RFC 9110 weak comparison, as If-None-Match requires (``*`` matches anything)."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    bare = etag.removeprefix("W/")
    for candidate in if_none_match.split(","):
        if candidate.strip().removeprefix("W/") == bare:
            return True
    return False


class ResponseCache:
    """A bounded map of rendered bodies; oldest entries go first when it is full.

    ``generation`` moves on every invalidation. A renderer reads it before loading the
    route and passes it to :meth:`put`, which refuses to store a body if an invalidation
    happened in between (the body may have been rendered from a version just replaced).
    """

    def __init__(self, max_entries: int = 10_000) -> None:
        self.max_entries = max_entries
        self.generation = 0
        self._entries: dict[CacheKey, CachedBody] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: CacheKey) -> CachedBody | None:
        return self._entries.get(key)

    def put(
        self,
        key: CacheKey,
        body: bytes,
        route_id: str,
        slug: str,
        version_id: str,
        generation: int,
    ) -> CachedBody:
        """Store a rendered body (unless ``generation`` is out of date) and return it.

        ``slug`` is the route's canonical slug (the key may hold another spelling of it).
        """
        entry = CachedBody(body, strong_etag(body), route_id, slug, version_id)
        with self._lock:
            if generation != self.generation:
                return entry
            if len(self._entries) >= self.max_entries and key not in self._entries:
                self._entries.pop(next(iter(self._entries)))
            self._entries[key] = entry
        return entry

    def invalidate_route(self, route_id: str) -> int:
        """Drop every entry rendered from ``route_id``; returns how many went."""
        return self._drop(lambda e: e.route_id == route_id)

    def clear(self) -> None:
        with self._lock:
            self.generation += 1
            self._entries.clear()

    def route_ids(self) -> list[str]:
        with self._lock:
            return sorted({e.route_id for e in self._entries.values()})

    def revalidate(self, state: RouteState) -> int:
        """Drop entries whose route was deleted, renamed, republished or unpublished."""
        with self._lock:
            self.generation += 1
        ids = self.route_ids()
        if not ids:
            return 0
        current = state(ids)

        def stale(entry: CachedBody) -> bool:
            now = current.get(entry.route_id)
            return now is None or now != (entry.slug, entry.version_id)

        return self._drop(stale)

    def _drop(self, predicate: Callable[[CachedBody], bool]) -> int:
        with self._lock:
            self.generation += 1
            doomed = [k for k, e in self._entries.items() if predicate(e)]
            for key in doomed:
                del self._entries[key]
        return len(doomed)


class ChangeWatcher:
    """Polls ``token()`` every ``interval`` seconds and calls ``on_change()`` when it moves.

    ``token`` must be cheap (``PRAGMA data_version`` behind a service method). Errors are
    logged and retried on the next tick: a locked or busy database must not kill the thread.
    """

    def __init__(
        self, token: Callable[[], object], on_change: Callable[[], object], interval: float
    ) -> None:
        self._token = token
        self._on_change = on_change
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="change-watcher", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        last = self._safe_token()
        while not self._stop.wait(self._interval):
            current = self._safe_token()
            if current is None or current == last:
                continue
            last = current
            try:
                self._on_change()
            except Exception:
                log.exception("cache revalidation failed")

    def _safe_token(self) -> object:
        try:
            return self._token()
        except Exception:
            log.exception("change token unavailable")
            return None
