"""Recording plugin health (breaker state, latest error) where other processes read it.

Failures are reported on whatever thread saw them, often inside a content write's
transaction that a before-hook is about to roll back; so reports are queued and written by
one background thread in their own transactions. Errors are written at most once per
``interval`` seconds per plugin (the newest wins), so a plugin failing in a tight loop
cannot turn into a write storm; breaker state changes are always written.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Protocol

log = logging.getLogger(__name__)


class HealthStore(Protocol):
    def record_health(self, name: str, breaker: str | None, error: str | None) -> None: ...


class HealthRecorder:
    """Queues health reports and writes them from one daemon thread."""

    def __init__(self, store: HealthStore, *, interval: float = 2.0) -> None:
        self.store = store
        self.interval = interval
        # items: a report, an Event to set once everything before it is written, or None
        self._queue: queue.SimpleQueue[
            tuple[str, str | None, str | None] | threading.Event | None
        ] = queue.SimpleQueue()
        self._last_error_write: dict[str, float] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def report(self, name: str, breaker: str | None, error: str | None) -> None:
        """Queue a breaker state and/or an error of plugin ``name`` (never blocks)."""
        if error is not None:
            moment = time.monotonic()
            with self._lock:
                if moment - self._last_error_write.get(name, -self.interval) < self.interval:
                    error = None
                else:
                    self._last_error_write[name] = moment
        if breaker is None and error is None:
            return
        self._start()
        self._queue.put((name, breaker, error))

    def _start(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="plugin-health", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            if isinstance(item, threading.Event):
                item.set()
                continue
            name, breaker, error = item
            try:
                self.store.record_health(name, breaker, error)
            except Exception:  # the health record must never take a plugin call down
                log.exception("could not record the health of plugin %s", name)

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every report queued so far is written; False on timeout."""
        if self._thread is None or not self._thread.is_alive():
            return True
        written = threading.Event()
        self._queue.put(written)
        return written.wait(timeout)

    def close(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(timeout=5.0)
