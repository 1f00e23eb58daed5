"""The hook engine: content lifecycle hooks of every running plugin (spec §7).

It implements :class:`modulacms.core.events.HookDispatcher`, which the services call:

* :meth:`HookEngine.before` runs inside the write transaction. For (event, table) it
  merges the exact and wildcard hooks, drops unapproved and disabled ones and orders
  them by priority, then specific before wildcard, then registration order. Each hook
  gets a fresh copy of the row plus ``_table``/``_event``, a VM from the hook checkout,
  ``plugin_hook_timeout_ms`` per hook and ``plugin_hook_event_timeout_ms`` for the
  chain, and no ``db``/``core`` access. A hook that raises (or times out, or finds no VM)
  aborts the write with :class:`ValidationFailed` ``operation blocked by plugin "p"``
  (HTTP 422; the Lua message is logged, not shown, as in the original).
* :meth:`HookEngine.after` is called after commit; the hooks run on worker threads, at
  most ``plugin_hook_max_concurrent_after`` chains queued or running (the caller blocks
  for a free slot), with the plugin timeout for the chain and the reduced
  ``plugin_hook_max_ops`` budget per execution. Workers gather chains for up to
  ``AFTER_HOOK_COALESCE`` seconds and run them in bursts (at once when a writer waits for
  a slot or someone waits in :meth:`HookEngine.wait_idle`). Errors are logged and
  counted only.
* :meth:`HookEngine.before_read` / :meth:`HookEngine.after_read` serve the public content
  delivery endpoint (spec §7.5).

Consecutive failures per ``plugin:event:table`` feed a :class:`HookBreaker`; wildcard
hooks are disabled under their ``*`` key too. Writes a plugin makes through ``core.*``
while one of its hooks runs do not fire hooks again (no recursion).

Cost: a hook runs on every content write, so the per-call work is kept small. The data
table is prepared once per chain (:class:`HookData`: text encoded, numbers checked) and
built inside Lua by a constructor made once per VM and key set, in the same call into
Lua that runs the handler; metric label sets are made once per hook entry; an after-hook
burst keeps the VM of a plugin between its hooks while no one else waits for one.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from queue import Empty, SimpleQueue
from typing import TYPE_CHECKING, Any, TypeAlias

from modulacms.core.events import HookEvent
from modulacms.core.models import Actor
from modulacms.errors import FieldError, ValidationFailed
from modulacms.plugin_runtime.breaker import HookBreaker
from modulacms.plugin_runtime.metrics import LabelKey, label_key
from modulacms.plugin_runtime.pool import PoolClosed, PoolExhausted, PoolState, VMPool
from modulacms.plugin_runtime.sandbox import ExecResult, ExecStatus, Sandbox

if TYPE_CHECKING:
    from modulacms.plugin_runtime.instance import PluginInstance
    from modulacms.plugin_runtime.manager import PluginManager
    from modulacms.plugin_runtime.vm import PluginVM

log = logging.getLogger(__name__)

_local = threading.local()

AFTER_HOOK_COALESCE = 0.01
"""Seconds an after-hook worker gathers chains before running them as one burst."""

AFTER_HOOK_SLOT_WAIT = 0.005
"""Seconds a writer waiting for an after-hook slot waits for the running burst to end
before it takes the slot of a chain that has already finished (see :meth:`HookEngine.after`)."""

_STATUSES = ("ok", "error", "timeout")
_EXACT = 2**53  # integers beyond this are not exact as Lua 5.1 numbers: sent as floats
_MAX_KEYS = 120  # a data table with more keys takes the general conversion
_SLOT_COST = 64  # upper bound of the Lua heap one key/value slot of a data table takes
_CALLERS_PER_VM = 32


@dataclass(frozen=True, slots=True)
class HookEntry:
    """One registered hook of one plugin instance."""

    plugin: str
    event: str
    table: str
    priority: int
    order: int
    index: int
    key: str = field(init=False, repr=False, compare=False)
    """The breaker and approval key ``plugin:event:table``."""
    labels: dict[str, LabelKey] = field(init=False, repr=False, compare=False)
    """Metric label set per status (``ok``, ``error``, ``timeout``)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", HookBreaker.key(self.plugin, self.event, self.table))
        base = {"plugin": self.plugin, "event": self.event, "table": self.table}
        labels = {status: label_key({**base, "status": status}) for status in _STATUSES}
        object.__setattr__(self, "labels", labels)

    @property
    def wildcard(self) -> bool:
        return self.table == "*"

    def sort_key(self) -> tuple[int, int, int]:
        return (self.priority, 1 if self.wildcard else 0, self.order)


@dataclass(frozen=True, slots=True)
class ReadResponse:
    """A ``before_read`` hook's early response."""

    status: int
    headers: dict[str, str]
    body: Any = None


@dataclass(frozen=True, slots=True)
class HookData:
    """A hook's data table prepared once for a whole chain.

    ``keys`` (UTF-8 names) and ``values`` are the flat form every hook's fresh table is
    built from inside Lua: keys whose value is ``None`` are left out (as Lua tables hold
    no nil), text is ``bytes``, integers beyond 2^53 are floats, other numbers and
    booleans are as they are, and anything else (nested tables, lists, other types) is
    still Python data that the sandbox converts per call under its usual rules and
    headroom check. ``keys`` is None when the data does not fit that form (non-text
    keys, very many keys); hooks then get ``data`` converted in full. ``size`` bounds
    the Lua heap the flat part takes; ``scalars`` says every value already is one that
    crosses into Lua as it is (no per-call conversion)."""

    data: dict[str, Any]
    keys: tuple[bytes, ...] | None
    values: tuple[Any, ...]
    size: int
    scalars: bool = False

    @classmethod
    def of(cls, data: dict[str, Any]) -> HookData:
        # every None left out here is one argument less to convert and push per hook
        names = tuple([k for k, v in data.items() if v is not None])
        keys = _KEYS.get(names)
        if keys is None:
            if len(names) > _MAX_KEYS or not all(type(k) is str for k in names):
                return cls(data, None, (), 0)
            if len(_KEYS) >= 256:
                _KEYS.clear()
            keys = _KEYS[names] = tuple([k.encode("utf-8", "surrogateescape") for k in names])
        values: list[Any] = [
            v.encode("utf-8", "surrogateescape") if type(v) is str else v
            for v in data.values()
            if v is not None
        ]
        size = _SLOT_COST * (len(keys) + 2)
        for i, value in enumerate(values):
            kind = type(value)
            if kind is bytes:
                size += len(value)
            elif kind is int and not -_EXACT <= value <= _EXACT:
                values[i] = float(value)
        return cls(data, keys, tuple(values), size, set(map(type, values)) <= _LUA_SCALARS)


_LUA_SCALARS = frozenset({bytes, int, float, bool})

_KEYS: dict[tuple[str, ...], tuple[bytes, ...]] = {}
"""UTF-8 names per key set seen (rows of one table share a few)."""


_CALLER = """local _, keys = ...
return function(handler, {params})
  return handler({{{fields}}})
end
"""


def _caller_source(count: int) -> str:
    params = ", ".join(f"v{i}" for i in range(1, count + 1))
    fields = ", ".join(f"[keys[{i}]] = v{i}" for i in range(1, count + 1))
    return _CALLER.format(params=params, fields=fields)


class _Callers:
    """Per VM and key set, a Lua function ``(handler, v1 .. vn)`` that builds the data
    table ``{[k1] = v1, ...}`` (a nil value leaves its key out) and tail-calls the handler
    with it, so building the table and running the hook are one call into Lua. The text
    only indexes the key list, never contains a key; made through the sandbox's trusted
    glue, once per VM and key set."""

    def __init__(self) -> None:
        self._by_sandbox: weakref.WeakKeyDictionary[Sandbox, dict[tuple[bytes, ...], Any]] = (
            weakref.WeakKeyDictionary()
        )

    def get(self, sandbox: Sandbox, keys: tuple[bytes, ...]) -> Any:
        """The caller for ``keys`` on ``sandbox``; None when it cannot be made (the VM
        is out of memory, say), and the hook then takes the general conversion."""
        callers = self._by_sandbox.get(sandbox)
        if callers is None:
            callers = self._by_sandbox[sandbox] = {}
        caller = callers.get(keys)
        if caller is None:
            if len(callers) >= _CALLERS_PER_VM:
                callers.clear()
            try:
                caller = sandbox.trusted(_caller_source(len(keys)), list(keys))
            except Exception:
                log.exception("plugin %s: could not prepare a hook call", sandbox.name)
                return None
            callers[keys] = caller
        return caller


def _status(result: ExecResult) -> str:
    if result.status in (ExecStatus.TIMEOUT, ExecStatus.BUDGET):
        return "timeout"
    return "ok" if result.ok else "error"


Held: TypeAlias = dict[str, tuple[VMPool, "PluginVM"]]
"""VMs an after-hook burst keeps between hooks, by plugin (with the pool they belong to)."""


class HookEngine:
    """Hook registry and dispatcher for one :class:`PluginManager`."""

    def __init__(self, manager: PluginManager) -> None:
        self.manager = manager
        self.options = manager.options
        self.metrics = manager.services.metrics
        self.breaker = HookBreaker(self.options.hook_max_consecutive_aborts)
        self._lock = threading.Lock()
        self._by_plugin: dict[str, list[HookEntry]] = {}
        self._index: dict[tuple[str, str], list[HookEntry]] = {}
        # (event, table) -> (approvals snapshot, its approved hooks in order)
        self._approved: dict[tuple[str, str], tuple[object, list[HookEntry]]] = {}
        self._sequence = 0
        self._generation = 0
        self._callers = _Callers()
        self._max_after = max(1, self.options.hook_max_concurrent_after)
        self._slots = threading.BoundedSemaphore(self._max_after)
        # Long-lived workers fed by one queue: handing a chain over is a queue put, not a
        # future plus a pool bookkeeping round per create. Workers start on demand, at
        # most one per concurrent chain, and live until close().
        self._queue: SimpleQueue[tuple[list[HookEntry], dict[str, Any]] | None] = SimpleQueue()
        self._workers: list[threading.Thread] = []
        self._busy = 0
        self._waiters = 0
        self._flush = threading.Event()  # set: run queued chains now, no gathering
        self._pending = 0  # chains queued or running
        self._finished = 0  # chains finished whose slot a burst has not given back yet
        self._idle = threading.Condition()
        self._closed = False

    # -- registry ------------------------------------------------------------------------

    def register(self, instance: PluginInstance) -> None:
        """(Re)build the entries of ``instance``; replaces the plugin's previous ones."""
        entries = []
        with self._lock:
            for index, hook in enumerate(instance.registered.hooks):
                self._sequence += 1
                entries.append(
                    HookEntry(
                        instance.name, hook.event, hook.table, hook.priority, self._sequence, index
                    )
                )
            self._by_plugin[instance.name] = entries
            self._rebuild()
        self.breaker.clear_plugin(instance.name)

    def unregister(self, plugin: str) -> None:
        with self._lock:
            self._by_plugin.pop(plugin, None)
            self._rebuild()

    def _rebuild(self) -> None:
        index: dict[tuple[str, str], list[HookEntry]] = {}
        for entries in self._by_plugin.values():
            for entry in entries:
                index.setdefault((entry.event, entry.table), []).append(entry)
        self._index = index
        self._approved = {}
        self._generation += 1

    @property
    def generation(self) -> int:
        """A number that changes whenever a plugin's hooks are registered or removed
        (callers keep answers derived from :meth:`chain` until it or the approvals
        snapshot changes)."""
        return self._generation

    def entries(self) -> list[HookEntry]:
        with self._lock:
            return sorted(
                (e for es in self._by_plugin.values() for e in es),
                key=lambda e: (e.plugin, e.event, e.table),
            )

    def has_hooks(self, event: str, table: str) -> bool:
        index = self._index
        return bool(index.get((event, table)) or index.get((event, "*")))

    def chain(self, event: str, table: str) -> list[HookEntry]:
        """The hooks that would run for (event, table), in order."""
        cache = self._approved
        approvals = self.manager.approvals_snapshot
        cached = cache.get((event, table))
        if cached is None or cached[0] is not approvals:
            index = self._index
            candidates = index.get((event, table), []) + (
                index.get((event, "*"), []) if table != "*" else []
            )
            ordered = sorted(candidates, key=HookEntry.sort_key)
            approved = [e for e in ordered if approvals.hook(e.plugin, e.event, e.table)]
            # kept until the approvals snapshot is replaced or _rebuild() drops the cache
            cached = cache[(event, table)] = (approvals, approved)
        if not cached[1]:
            return []
        disabled = self.breaker.disabled
        return [e for e in cached[1] if not disabled(e.key)]

    # -- running one hook ----------------------------------------------------------------

    def _suppressed(self, entry: HookEntry) -> bool:
        return getattr(_local, "depth", 0) > 0 or entry.plugin in getattr(
            _local, "core_writers", ()
        )

    def _run(
        self,
        entry: HookEntry,
        data: HookData,
        *,
        timeout: float,
        before: bool,
        ops: int,
        held: Held | None = None,
    ) -> tuple[ExecResult | None, PluginInstance | None, Any]:
        """Run one hook; (None, None, None) when it is skipped (plugin not running).

        With ``held`` (an after-hook burst) the plugin's VM is taken from there when it
        belongs to the plugin's current, open pool and nobody waits for a VM of it, and
        put back there afterwards when it stayed healthy; the burst returns them."""
        instance = self.manager.running(entry.plugin)
        if instance is None or instance.pool is None:
            return None, None, None
        pool = instance.pool
        vm: PluginVM | None = None
        if held is not None:
            lease = held.pop(entry.plugin, None)
            if lease is not None:
                if lease[0] is pool and pool.state is PoolState.OPEN and not pool.contended:
                    vm = lease[1]
                else:
                    lease[0].release(lease[1])
        if vm is None:
            try:
                # Before-hooks hold the write transaction: they may take the reserved VMs.
                # After-hooks run in the background and wait in line for a general VM, so
                # a burst of them never starves the next before-hook.
                vm = pool.acquire_for_hook() if before else pool.acquire(timeout=timeout)
            except (PoolExhausted, PoolClosed):
                return ExecResult(ExecStatus.ERROR, message="pool exhausted"), instance, None
        started = time.monotonic()
        _local.depth = getattr(_local, "depth", 0) + 1
        try:
            result, returned = self._call(vm, entry, data, timeout, before, ops)
        finally:
            _local.depth -= 1
            # VM.release() is the clean-up after every execution (new globals dropped,
            # health checked); a VM that fails it goes back to the pool to be replaced.
            if held is not None and vm.release():
                held[entry.plugin] = (pool, vm)
            else:
                pool.release(vm)
        elapsed = (time.monotonic() - started) * 1000
        status = _status(result)
        self.metrics.count_and_observe(
            "plugin.hook.before" if before else "plugin.hook.after",
            "plugin.hook.duration_ms",
            elapsed,
            entry.labels[status],
        )
        if result.ok:
            self.breaker.record_success(entry.key)
        else:
            if self.breaker.record_failure(entry.key):
                log.warning("hook %s disabled after repeated failures", entry.key)
            self.metrics.inc("plugin.errors", {"plugin": entry.plugin, "error_type": "hook"})
        return result, instance, returned

    def _call(
        self, vm: PluginVM, entry: HookEntry, data: HookData, timeout: float, before: bool, ops: int
    ) -> tuple[ExecResult, Any]:
        registered = vm.registered.hooks
        if entry.index >= len(registered):
            return ExecResult(ExecStatus.ERROR, message="hook missing on VM"), None
        handler = registered[entry.index].handler
        sandbox = vm.sandbox
        caller = None
        if data.keys is not None and data.size <= sandbox.room():
            caller = self._callers.get(sandbox, data.keys)
        if caller is not None:
            result = vm.run_once(
                caller,
                handler,
                *data.values,
                timeout=timeout,
                ops=ops,
                before_hook=before,
                scalars=data.scalars,
            )
        else:
            # the general conversion, which also reports a table too large for the VM
            result = vm.run_once(
                handler, dict(data.data), timeout=timeout, ops=ops, before_hook=before
            )
        returned = None
        if result.ok and not before and result.first is not None:
            returned = sandbox.convert(result.first)
        return result, returned

    # -- HookDispatcher ------------------------------------------------------------------

    def before(self, event: HookEvent, table: str, row: dict[str, Any], actor: Actor) -> None:
        """Run the before-hooks; raise :class:`ValidationFailed` to abort the write."""
        name = event.value
        if not self.has_hooks(name, table):
            return
        chain = [e for e in self.chain(name, table) if not self._suppressed(e)]
        if not chain:
            return
        data = HookData.of({**row, "_table": table, "_event": name})
        per_hook = self.options.hook_timeout_ms / 1000
        end = time.monotonic() + self.options.hook_event_timeout_ms / 1000
        for entry in chain:
            left = end - time.monotonic()
            if left <= 0:
                self._abort(entry, "hook chain exceeded its time limit")
            result, instance, _ = self._run(
                entry, data, timeout=min(per_hook, left), before=True, ops=0
            )
            if result is None:
                continue
            if not result.ok:
                reason = result.message
                if result.message == "pool exhausted":
                    reason = f'hook VM pool exhausted for plugin "{entry.plugin}"'
                self._abort(entry, reason)

    def _abort(self, entry: HookEntry, reason: str) -> None:
        log.warning(
            "plugin %s blocked %s on %s: %s", entry.plugin, entry.event, entry.table, reason
        )
        message = f'operation blocked by plugin "{entry.plugin}"'
        raise ValidationFailed(message, [FieldError("_plugin", message)])

    def after(self, event: HookEvent, table: str, row: dict[str, Any], actor: Actor) -> None:
        """Queue the after-hooks (called after commit); never raises.

        Blocks while ``plugin_hook_max_concurrent_after`` chains are queued or running.
        A writer that has to wait makes the workers run the queue at once; it waits for
        a slot for up to ``AFTER_HOOK_SLOT_WAIT`` seconds at a time, then also accepts
        the slot of a chain that has finished in a burst still running (bursts give
        slots back when they end, so a burst runs without writers waking between its
        chains, and a slow chain in a burst never holds writers up for long)."""
        try:
            name = event.value
            if self._closed or not self.has_hooks(name, table):
                return
            chain = [e for e in self.chain(name, table) if not self._suppressed(e)]
            if not chain:
                return
            data = {**row, "_table": table, "_event": name}
            self._take_slot()
            worker = None
            with self._idle:
                self._pending += 1
                # a new worker only when every worker is busy running chains (a slow hook
                # must not hold up the others), up to the concurrency limit
                running = len(self._workers)
                if self._busy == running and running < self._max_after:
                    worker = threading.Thread(
                        target=self._work, name="plugin-after-hook", daemon=True
                    )
                    self._workers.append(worker)
            if worker is not None:
                worker.start()
            self._queue.put((chain, data))
        except Exception:
            log.exception("queueing after-hooks for %s on %s failed", event.value, table)

    def _take_slot(self) -> None:
        if self._slots.acquire(blocking=False):
            return
        self._flush.set()  # a writer waits: run the queue now, no gathering
        while not self._slots.acquire(timeout=AFTER_HOOK_SLOT_WAIT):
            with self._idle:
                if self._finished:
                    self._finished -= 1
                    return

    def run_after(self, chain: list[HookEntry], data: dict[str, Any]) -> None:
        """Run an after-hook chain in the calling thread (the test harness uses this)."""
        held: Held = {}
        try:
            self._run_after(chain, HookData.of(data), held)
        finally:
            _give_back(held)

    def _run_after(self, chain: list[HookEntry], data: HookData, held: Held) -> None:
        end = time.monotonic() + self.options.timeout
        for entry in chain:
            left = end - time.monotonic()
            if left <= 0:
                log.warning("after-hook chain for %s timed out", entry.event)
                break
            result, _, _ = self._run(
                entry, data, timeout=left, before=False, ops=self.options.hook_max_ops, held=held
            )
            if result is not None and not result.ok:
                log.warning(
                    "plugin %s after-hook %s on %s failed: %s",
                    entry.plugin,
                    entry.event,
                    entry.table,
                    result.message,
                )

    def _work(self) -> None:
        """One after-hook worker: run queued chains in bursts until close() sends None.

        After the first chain of a burst arrives the worker waits up to
        ``AFTER_HOOK_COALESCE`` seconds (less when a writer waits for a slot or someone
        calls :meth:`wait_idle`) and then runs everything queued back to back, keeping
        each plugin's VM between hooks. Each hook call into Lua gives up the GIL and has
        to win it back from the request threads; in bursts that happens a few times per
        burst instead of around every single write."""
        while True:
            item = self._queue.get()
            if item is None:
                return
            self._flush.wait(AFTER_HOOK_COALESCE)
            with self._idle:
                if self._waiters == 0:
                    self._flush.clear()
            burst = [item]
            stop = False
            while len(burst) < self._max_after:
                try:
                    more = self._queue.get_nowait()
                except Empty:
                    break
                if more is None:
                    stop = True
                    break
                burst.append(more)
            with self._idle:
                self._busy += 1
            self._run_burst(burst)
            if stop:
                return

    def _run_burst(self, burst: list[tuple[list[HookEntry], dict[str, Any]]]) -> None:
        held: Held = {}
        try:
            for chain, data in burst:
                try:
                    self._run_after(chain, HookData.of(data), held)
                except Exception:
                    log.exception("after-hook chain failed")
                finally:
                    with self._idle:
                        self._pending -= 1
                        self._finished += 1
        finally:
            _give_back(held)
            with self._idle:
                self._busy -= 1
                freed, self._finished = self._finished, 0
                if self._pending == 0:
                    self._idle.notify_all()
            for _ in range(freed):
                self._slots.release()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until no after-hook is queued or running (tests, shutdown)."""
        end = time.monotonic() + timeout
        with self._idle:
            self._waiters += 1
            self._flush.set()
        try:
            return self._wait_pending(end)
        finally:
            with self._idle:
                self._waiters -= 1
                if self._waiters == 0:
                    self._flush.clear()

    def _wait_pending(self, end: float) -> bool:
        with self._idle:
            while self._pending > 0:
                left = end - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
        return True

    def close(self, timeout: float = 10.0) -> None:
        self._closed = True
        self.wait_idle(timeout)
        with self._idle:
            workers, self._workers = self._workers, []
        for _ in workers:
            self._queue.put(None)

    # -- read hooks (public delivery) -----------------------------------------------------

    def before_read(
        self, slug: str, headers: Mapping[str, str], client_ip: str, query: Mapping[str, str]
    ) -> tuple[ReadResponse | None, dict[str, Any] | None]:
        """Run ``before_read`` hooks for ``content_data``: an early response, or the state
        (data table as the last successful hook left it) for :meth:`after_read`."""
        chain = self.chain("before_read", "content_data")
        if not chain:
            return None, None
        data = {
            "slug": slug,
            "headers": dict(headers),
            "client_ip": client_ip,
            "query": dict(query),
            "_table": "content_data",
            "_event": "before_read",
        }
        state: dict[str, Any] | None = None
        per_hook = self.options.hook_timeout_ms / 1000
        end = time.monotonic() + self.options.hook_event_timeout_ms / 1000
        for entry in chain:
            left = end - time.monotonic()
            if left <= 0:
                break
            result, _, returned = self._run_read(entry, data, min(per_hook, left))
            if result is None or not result.ok:
                continue
            response, table = returned
            if isinstance(response, dict) and isinstance(response.get("status"), int | float):
                raw_headers = response.get("headers")
                hdrs = {
                    str(k): v
                    for k, v in (raw_headers.items() if isinstance(raw_headers, dict) else ())
                    if isinstance(v, str)
                }
                body = (
                    response.get("json") if isinstance(response.get("json"), dict | list) else None
                )
                return ReadResponse(int(response["status"]), hdrs, body), None
            state = table
        return None, state

    def _run_read(
        self, entry: HookEntry, data: dict[str, Any], timeout: float
    ) -> tuple[ExecResult | None, None, tuple[Any, Any]]:
        instance = self.manager.running(entry.plugin)
        if instance is None or instance.pool is None:
            return None, None, (None, None)
        try:
            vm = instance.pool.acquire_for_hook()
        except (PoolExhausted, PoolClosed):
            return None, None, (None, None)
        try:
            handler = vm.registered.hooks[entry.index].handler
            with vm.checkout(timeout=timeout, ops=self.options.hook_max_ops):
                table = vm.sandbox.to_lua(data)
                result = vm.run(handler, table)
                response = vm.sandbox.convert(result.first) if result.ok else None
                state = vm.sandbox.export(table) if result.ok else None
        except Exception:
            log.exception("read hook of plugin %s failed", entry.plugin)
            return ExecResult(ExecStatus.ERROR, message="internal"), None, (None, None)
        finally:
            instance.pool.release(vm)
        self.metrics.inc_key("plugin.hook.before", entry.labels[_status(result)])
        if result.ok:
            self.breaker.record_success(entry.key)
        else:
            self.breaker.record_failure(entry.key)
        return result, None, (response, state if isinstance(state, dict) else None)

    def after_read(
        self, data: Mapping[str, Any], state: Mapping[str, Any] | None
    ) -> dict[str, str]:
        """Run ``after_read`` hooks; returns response headers they asked to add."""
        chain = self.chain("after_read", "content_data")
        headers: dict[str, str] = {}
        if not chain:
            return headers
        merged = HookData.of(
            {**data, **(state or {}), "_table": "content_data", "_event": "after_read"}
        )
        end = time.monotonic() + self.options.timeout
        per_hook = self.options.hook_timeout_ms / 1000
        for entry in chain:
            left = end - time.monotonic()
            if left <= 0:
                break
            result, _, returned = self._run(
                entry,
                merged,
                timeout=min(per_hook, left),
                before=False,
                ops=self.options.hook_max_ops,
            )
            if result is None or not result.ok or not isinstance(returned, dict):
                continue
            extra = returned.get("headers")
            if isinstance(extra, dict):
                headers.update({str(k): v for k, v in extra.items() if isinstance(v, str)})
        return headers


def _give_back(held: Held) -> None:
    """Return the VMs an after-hook burst kept."""
    for pool, vm in held.values():
        pool.release(vm)
    held.clear()


class core_writes:  # noqa: N801 - used as a context manager like a function
    """Mark the current thread as writing core tables on behalf of ``plugin``."""

    def __init__(self, plugin: str) -> None:
        self.plugin = plugin

    def __enter__(self) -> None:
        writers: tuple[str, ...] = getattr(_local, "core_writers", ())
        _local.core_writers = (*writers, self.plugin)

    def __exit__(self, *exc: object) -> None:
        _local.core_writers = _local.core_writers[:-1]
