"""The VM pool of one plugin instance (spec §10.1).

``size`` VMs, of which ``reserved`` are kept for hooks: HTTP requests take a general VM
and wait at most ``checkout_timeout`` (then :class:`PoolExhausted`); hooks take a general
VM without waiting, else a reserved one within the timeout. A returned VM goes to the
reserved side first when that side has room. A VM that fails its health check on return
(an API global rebound, heap near the limit, sandbox closed) is closed and replaced by a
fresh one built by ``factory`` (module scope re-run; ``on_init`` is not).

States: open; draining (checkouts fail, returns accepted, used by reload); closed
(returned VMs are closed). Waits are recorded in ``plugin.vm.checkout_wait_ms``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum

from modulacms.errors import PluginError
from modulacms.plugin_runtime.metrics import MetricsRegistry, label_key
from modulacms.plugin_runtime.vm import PluginVM

log = logging.getLogger(__name__)


class PoolExhausted(PluginError):
    """Every VM of the plugin is busy."""

    code = "pool_exhausted"


class PoolClosed(PluginError):
    """The pool is draining or closed (reload, shutdown)."""

    code = "plugin_unavailable"


class _Waiter:
    """One checkout waiting in line; ``vm`` is set by the releasing thread."""

    __slots__ = ("vm",)

    def __init__(self) -> None:
        self.vm: PluginVM | None = None


class PoolState(StrEnum):
    OPEN = "open"
    DRAINING = "draining"
    CLOSED = "closed"


class VMPool:
    """General + reserved queues of :class:`PluginVM` objects."""

    def __init__(
        self,
        plugin: str,
        vms: list[PluginVM],
        *,
        reserved: int,
        factory: Callable[[], PluginVM],
        checkout_timeout: float = 0.1,
        metrics: MetricsRegistry | None = None,
    ) -> None:
        self.plugin = plugin
        self.total = len(vms)
        self.reserved_size = max(0, min(reserved, self.total - 1)) if self.total > 1 else 0
        self._factory = factory
        self._timeout = checkout_timeout
        self._metrics = metrics
        self._labels = label_key({"plugin": plugin})
        self._cond = threading.Condition()
        self._general: deque[PluginVM] = deque(vms[self.reserved_size :])
        self._reserved: deque[PluginVM] = deque(vms[: self.reserved_size])
        self._out = 0
        self._waiting: deque[_Waiter] = deque()
        self._hook_waiting: deque[_Waiter] = deque()
        self.state = PoolState.OPEN
        self.replaced = 0

    # -- checkout -----------------------------------------------------------------------

    def _record_wait(self, started: float) -> None:
        if self._metrics is not None:
            waited = (time.monotonic() - started) * 1000
            self._metrics.observe_key("plugin.vm.checkout_wait_ms", waited, self._labels)

    def _check_open(self) -> None:
        if self.state is not PoolState.OPEN:
            raise PoolClosed(f'plugin "{self.plugin}" pool is {self.state.value}')

    def _wait(self, queue: deque[_Waiter], started: float, deadline: float, what: str) -> PluginVM:
        """Queue up (first come, first served) until a returned VM is handed over.
        Called with the lock held; returns with it held."""
        waiter = _Waiter()
        queue.append(waiter)
        while waiter.vm is None:
            left = deadline - time.monotonic()
            if left <= 0 or self.state is not PoolState.OPEN:
                break
            self._cond.wait(left)
        if waiter.vm is None:
            queue.remove(waiter)
            self._record_wait(started)
            self._check_open()
            raise PoolExhausted(what)
        self._record_wait(started)
        return waiter.vm

    def acquire(self, timeout: float | None = None) -> PluginVM:
        """A general VM (HTTP requests, lifecycle calls), waiting in line."""
        started = time.monotonic()
        deadline = started + (self._timeout if timeout is None else timeout)
        with self._cond:
            self._check_open()
            if self._general and not self._waiting:
                self._out += 1
                self._record_wait(started)
                return self._general.pop()
            return self._wait(
                self._waiting, started, deadline, f'all VMs of plugin "{self.plugin}" are busy'
            )

    def acquire_for_hook(self, timeout: float | None = None) -> PluginVM:
        """A general VM if one is idle right now, else a reserved one (waiting briefly)."""
        started = time.monotonic()
        deadline = started + (self._timeout if timeout is None else timeout)
        with self._cond:
            self._check_open()
            if self._general and not self._waiting:
                self._out += 1
                self._record_wait(started)
                return self._general.pop()
            if self._reserved:
                self._out += 1
                self._record_wait(started)
                return self._reserved.pop()
            return self._wait(
                self._hook_waiting,
                started,
                deadline,
                f'hook VM pool exhausted for plugin "{self.plugin}"',
            )

    def _hand_over(self, vm: PluginVM) -> None:
        """Give a returned VM to the longest waiter, or put it back (lock held)."""
        waiter: _Waiter | None = None
        if self.state is not PoolState.OPEN:
            self._general.append(vm)
        elif len(self._reserved) < self.reserved_size:
            if self._hook_waiting:
                waiter = self._hook_waiting.popleft()
            else:
                self._reserved.append(vm)
        elif self._waiting:
            waiter = self._waiting.popleft()
        elif self._hook_waiting:
            waiter = self._hook_waiting.popleft()
        else:
            self._general.append(vm)
        if waiter is not None:
            waiter.vm = vm
            self._out += 1
        self._cond.notify_all()

    def release(self, vm: PluginVM) -> None:
        """Return a VM; replace it when unhealthy; close it when the pool is closed."""
        healthy = vm.release()
        if self.state is PoolState.CLOSED:
            vm.close()
            with self._cond:
                self._out -= 1
                self._cond.notify_all()
            return
        if not healthy:
            vm.close()
            try:
                vm = self._factory()
                self.replaced += 1
            except Exception:
                log.exception("plugin %s: could not replace an unhealthy VM", self.plugin)
                with self._cond:
                    self._out -= 1
                    self.total -= 1
                    self._cond.notify_all()
                return
        with self._cond:
            self._out -= 1
            self._hand_over(vm)

    @contextmanager
    def lease(self, *, hook: bool = False, timeout: float | None = None) -> Iterator[PluginVM]:
        vm = self.acquire_for_hook(timeout) if hook else self.acquire(timeout)
        try:
            yield vm
        finally:
            self.release(vm)

    # -- state --------------------------------------------------------------------------

    @property
    def contended(self) -> bool:
        """True when a checkout waits in line for a VM (read without the lock: a hint for
        a holder deciding whether to give its VM back between executions)."""
        return bool(self._waiting or self._hook_waiting)

    @property
    def available(self) -> int:
        with self._cond:
            return len(self._general) + len(self._reserved)

    @property
    def busy(self) -> int:
        with self._cond:
            return self._out

    def drain(self, timeout: float) -> bool:
        """Refuse new checkouts, wait for the busy ones, close everything. True when
        every VM came back in time."""
        with self._cond:
            if self.state is PoolState.OPEN:
                self.state = PoolState.DRAINING
            end = time.monotonic() + timeout
            while self._out > 0:
                left = end - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            drained = self._out == 0
        self.close()
        return drained

    def close(self) -> None:
        with self._cond:
            self.state = PoolState.CLOSED
            idle = list(self._general) + list(self._reserved)
            self._general.clear()
            self._reserved.clear()
            self._cond.notify_all()
        for vm in idle:
            vm.close()

    def idle_vms(self) -> list[PluginVM]:
        with self._cond:
            return list(self._general) + list(self._reserved)
