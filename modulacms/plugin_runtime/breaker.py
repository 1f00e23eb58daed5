"""Circuit breakers (spec §10.4 for plugins, §7.3 for hooks).

:class:`CircuitBreaker` — per plugin instance: Closed → Open after ``threshold``
consecutive failures; Open rejects until ``reset_interval`` seconds after the last
failure; then Half-open, which admits every request (as the original does) until the
next outcome: success closes, failure re-opens. Admin disable force-trips it.

:class:`HookBreaker` — consecutive failures per ``plugin:event:table``; at ``threshold``
that hook is disabled until a reload or an explicit re-enable. Unlike the original
(spec [GO-BUG] §7.3), wildcard hooks are counted and disabled under their own ``*`` key.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from enum import StrEnum


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half-open"


class CircuitBreaker:
    """Thread-safe breaker; ``on_trip(reason)`` is called whenever it opens.

    ``on_report(state, error)`` is called, outside the lock, after every failure (with its
    reason) and whenever the state changes otherwise (``error`` None), so that the state
    and the latest error can be recorded where other processes see them.
    """

    def __init__(
        self,
        threshold: int = 5,
        reset_interval: float = 60.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        on_trip: Callable[[str], None] | None = None,
        on_report: Callable[[BreakerState, str | None], None] | None = None,
    ) -> None:
        self.threshold = max(1, threshold)
        self.reset_interval = reset_interval
        self._clock = clock
        self._on_trip = on_trip
        self._on_report = on_report
        self._lock = threading.Lock()
        self._state = BreakerState.CLOSED
        self.failures = 0
        self._last_failure = 0.0
        self.reason = ""

    @property
    def state(self) -> BreakerState:
        with self._lock:
            self._advance()
            return self._state

    def _advance(self) -> None:
        if (
            self._state is BreakerState.OPEN
            and self._clock() - self._last_failure >= self.reset_interval
        ):
            self._state = BreakerState.HALF_OPEN

    def allow(self) -> bool:
        with self._lock:
            self._advance()
            return self._state is not BreakerState.OPEN

    def _report(self, state: BreakerState, error: str | None) -> None:
        if self._on_report is not None:
            self._on_report(state, error)

    def record_success(self) -> None:
        with self._lock:
            changed = self._state is not BreakerState.CLOSED
            self.failures = 0
            self._state = BreakerState.CLOSED
        if changed:
            self._report(BreakerState.CLOSED, None)

    def record_failure(self, reason: str = "") -> None:
        tripped = False
        with self._lock:
            self._advance()
            self.failures += 1
            self._last_failure = self._clock()
            if self._state is BreakerState.HALF_OPEN or (
                self._state is BreakerState.CLOSED and self.failures >= self.threshold
            ):
                self._state = BreakerState.OPEN
                self.reason = reason or f"{self.failures} consecutive failures"
                tripped = True
            state = self._state
        if tripped and self._on_trip is not None:
            self._on_trip(self.reason)
        self._report(state, reason or "failure")

    def trip(self, reason: str) -> None:
        """Open now (admin disable, eviction, drain timeout)."""
        with self._lock:
            self._state = BreakerState.OPEN
            self._last_failure = self._clock()
            self.reason = reason
        if self._on_trip is not None:
            self._on_trip(reason)
        self._report(BreakerState.OPEN, None)

    def reset(self) -> None:
        with self._lock:
            self._state = BreakerState.CLOSED
            self.failures = 0
            self.reason = ""
        self._report(BreakerState.CLOSED, None)


class HookBreaker:
    """Consecutive-failure counters per ``plugin:event:table`` key."""

    def __init__(self, threshold: int = 10) -> None:
        self.threshold = max(1, threshold)
        self._lock = threading.Lock()
        self._failures: dict[str, int] = {}
        self._disabled: set[str] = set()

    @staticmethod
    def key(plugin: str, event: str, table: str) -> str:
        return f"{plugin}:{event}:{table}"

    def disabled(self, key: str) -> bool:
        # A set membership test needs no lock: writers replace or mutate the set under
        # the lock and a reader sees either state.
        return key in self._disabled

    def record_success(self, key: str) -> None:
        # the common case (no failure on record) reads the dict without the lock
        if key in self._failures:
            with self._lock:
                self._failures.pop(key, None)

    def record_failure(self, key: str) -> bool:
        """Count a failure; True when this one disabled the hook."""
        with self._lock:
            count = self._failures.get(key, 0) + 1
            self._failures[key] = count
            if count >= self.threshold and key not in self._disabled:
                self._disabled.add(key)
                return True
            return False

    def set_enabled(self, key: str, enabled: bool) -> None:
        with self._lock:
            if enabled:
                self._disabled.discard(key)
                self._failures.pop(key, None)
            else:
                self._disabled.add(key)

    def clear_plugin(self, plugin: str) -> None:
        prefix = f"{plugin}:"
        with self._lock:
            self._disabled = {k for k in self._disabled if not k.startswith(prefix)}
            self._failures = {k: v for k, v in self._failures.items() if not k.startswith(prefix)}
