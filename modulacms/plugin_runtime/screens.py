"""Plugin TUI screens (spec §9.4): a coroutine per open screen, in the TUI's own process.

:class:`ScreenHost` loads, on demand, the plugins whose screens are opened (and their
dependencies; ``on_init`` runs as in a server, ``define_table`` is idempotent) into a
private :class:`~modulacms.plugin_runtime.manager.PluginManager` wired to the project
database, and shuts them down on :meth:`ScreenHost.close`. A disabled, invalid or failed
plugin is refused with the reason.

:class:`ScreenRun` is one open screen. It takes a VM from the plugin's **general** pool
(there is no separate UI pool, as in the original's code) and holds it until closed: the
coroutine lives in that VM. So a VM is never released while a screen sits idle; hooks
are not starved because they fall back to the reserved VM, and each open screen costs one
general VM (the default pool has three). ``screens/<name>.lua`` is read with the same
rules as ``init.lua`` (text only, real path inside the plugin directory, size-capped) and
run in the plugin's environment; its global ``screen(ctx)`` then runs as a coroutine made
by the sandbox's guarded coroutine library, so the count hook, deadline and instruction
budget apply on every resume. Every resume is one checkout: the plugin's ``timeout`` and
a fresh op budget (``max_ops``).

A screen that raises, loops, exhausts its memory or budget, or yields something that is
not a screen value ends its session: the error is logged, counted against the plugin's
breaker (as a failing HTTP handler is), :class:`PluginScreenError` is raised naming the
plugin and screen, and the VM goes back through the pool's usual health check (globals
reset, replaced when broken or near its memory limit). Fetch and request actions run
without the VM: rows through the plugin store, HTTP through the outbound engine (domain
approval, SSRF guard, rate limits and timeouts as for ``request.send``).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from modulacms.core.plugin_screens import (
    CLOSING,
    PROTOCOL_VERSION,
    DataEvent,
    DialogEvent,
    Fetch,
    FocusEvent,
    KeyEvent,
    PluginScreenError,
    Quit,
    Request,
    ResizeEvent,
    ScreenEvent,
    ScreenInfo,
    ScreenYield,
)
from modulacms.db.connection import Database
from modulacms.db.plugin_store import PluginStore
from modulacms.errors import ModulaError, NotFound, PluginError, PluginLoadError
from modulacms.plugin_runtime.approvals import ApprovalStore
from modulacms.plugin_runtime.convert import ConversionError, from_lua, lua_type
from modulacms.plugin_runtime.instance import PluginInstance
from modulacms.plugin_runtime.loader import (
    PluginSource,
    dependency_order,
    discover,
    read_plugin_file,
)
from modulacms.plugin_runtime.manager import PluginManager
from modulacms.plugin_runtime.options import RuntimeOptions
from modulacms.plugin_runtime.outbound import METHODS, OutboundEngine, OutboundRequest
from modulacms.plugin_runtime.pool import PoolClosed, PoolExhausted
from modulacms.plugin_runtime.sandbox import ExecResult, ExecStatus
from modulacms.plugin_runtime.screen_values import ScreenValueError, parse_yield
from modulacms.plugin_runtime.services import HostServices
from modulacms.plugin_runtime.vm import PluginVM

log = logging.getLogger(__name__)

SCREEN_MAX_DEPTH = 64
"""Nesting of a yielded table: a grid is 6 levels down to a cell's content and a tree
level takes 2 more, so a 20-level tree fits and anything absurd is cut off."""
SCREEN_MAX_NODES = 250_000
"""Values in one yield: 10,000 table rows of up to 20 cells fit."""
CHECKOUT_WAIT = 1.0

# Trusted glue (part of this package): starts the screen's coroutine with the sandbox's
# guarded coroutine.create (every thread plugin code can get comes from it, so the count
# hook is set) and resumes it with the real resume. Runs under K.run, so a plugin error,
# timeout or memory error inside the coroutine surfaces as that execution's status.
_GLUE = """
local K = ...
local resume, status, type, error = coroutine.resume, coroutine.status, type, error
local G = {}
local function step(co, event)
  local ok, value = resume(co, event)
  if not ok then error(value, 0) end
  if status(co) == "dead" then return "return" end
  return "yield", value
end
function G.start(fn, ctx)
  if type(fn) ~= "function" then error("screen file does not define function screen(ctx)", 0) end
  local lib = K.get_global("coroutine")
  local create = type(lib) == "table" and lib.create
  if type(create) ~= "function" then error("the coroutine library was replaced", 0) end
  local co = create(fn)
  if type(co) ~= "thread" then error("coroutine.create did not return a coroutine", 0) end
  return co, step(co, ctx)
end
function G.resume(co, event)
  if type(co) ~= "thread" or status(co) ~= "suspended" then
    error("the screen's coroutine cannot be resumed", 0)
  end
  return step(co, event)
end
return G
"""


def _simple(name: str) -> bool:
    return bool(name) and not any(bad in name for bad in ("..", "/", "\\", "\0"))


def event_table(event: ScreenEvent) -> dict[str, Any]:
    """The Lua table of an event, as §9.4 spells it."""
    if isinstance(event, KeyEvent):
        return {"type": "key", "key": event.key}
    if isinstance(event, ResizeEvent):
        return {"type": "resize", "width": event.width, "height": event.height}
    if isinstance(event, DataEvent):
        out: dict[str, Any] = {"type": "data", "id": event.id, "ok": event.ok}
        if event.ok:
            out["result"] = event.result
        else:
            out["error"] = event.error
        return out
    if isinstance(event, DialogEvent):
        return {"type": "dialog", "accepted": event.accepted}
    if isinstance(event, FocusEvent):
        return {"type": "focus", "panel": event.panel}
    raise TypeError(f"not a screen event: {event!r}")


class ScreenRun:
    """One open screen: a VM checked out of the plugin's general pool and the coroutine
    running ``screen(ctx)`` in it. Implements
    :class:`~modulacms.core.plugin_screens.ScreenSession`."""

    def __init__(
        self,
        host: ScreenHost,
        instance: PluginInstance,
        info: ScreenInfo,
        width: int,
        height: int,
        params: Mapping[str, str] | None,
    ) -> None:
        self._host = host
        self._instance = instance
        self._info = info
        self._lock = threading.Lock()
        self._closed = False
        self._co: Any = None
        pool = instance.pool
        if pool is None:
            raise PluginLoadError(f'plugin "{info.plugin}" is not running')
        try:
            self._vm: PluginVM = pool.acquire(timeout=CHECKOUT_WAIT)
        except (PoolExhausted, PoolClosed) as exc:
            raise PluginError(
                f'plugin "{info.plugin}" has no free VM for screen "{info.name}" '
                f"(close another of its screens): {exc.message}"
            ) from None
        try:
            self._glue = self._vm.sandbox.trusted(_GLUE)
            ctx: dict[str, Any] = {
                "type": "init",
                "protocol_version": PROTOCOL_VERSION,
                "width": width,
                "height": height,
            }
            if params:
                ctx["params"] = dict(params)
            self._initial = self._start(ctx)
        except BaseException:
            self._end()
            raise

    # -- ScreenSession ------------------------------------------------------------------

    @property
    def info(self) -> ScreenInfo:
        return self._info

    @property
    def initial(self) -> ScreenYield:
        return self._initial

    @property
    def closed(self) -> bool:
        return self._closed

    def send(self, event: ScreenEvent) -> ScreenYield:
        with self._lock:
            if self._closed:
                raise PluginScreenError(f"screen {self._info.path} is closed")
            return self._resume(event_table(event))

    def perform(self, action: Fetch | Request) -> DataEvent:
        try:
            if isinstance(action, Fetch):
                return DataEvent(action.id, True, self._host.fetch(self._info.plugin, action))
            response = self._host.request(self._info.plugin, action)
        except ModulaError as exc:
            return DataEvent(action.id, False, error=exc.message)
        except Exception:  # a data event, never a closed screen, for what SQL refuses
            log.exception("plugin %s screen %s: fetch failed", self._info.plugin, self._info.name)
            return DataEvent(action.id, False, error="internal error (details are in the log)")
        if "error" in response:
            return DataEvent(action.id, False, error=str(response["error"]))
        return DataEvent(action.id, True, response)

    def close(self) -> None:
        with self._lock:
            self._end()

    # -- running ------------------------------------------------------------------------

    def _start(self, ctx: dict[str, Any]) -> ScreenYield:
        vm, info = self._vm, self._info
        try:
            source = read_plugin_file(
                self._instance.ctx.source.root,
                f"screens/{info.name}.lua",
                self._instance.ctx.options.limits.max_source_bytes,
            )
        except FileNotFoundError:
            raise NotFound(
                "screen", info.path, f"plugin {info.plugin} has no screens/{info.name}.lua"
            ) from None
        except OSError as exc:
            raise PluginScreenError(f"screen {info.path}: cannot read it: {exc}") from None
        try:
            chunk = vm.sandbox.compile(source, f"{info.plugin}/screens/{info.name}.lua")
        except PluginLoadError as exc:
            raise self._fail(f"has a Lua syntax error: {exc.message}") from None
        with self._checkout():
            loaded = vm.run(chunk)
            if not loaded.ok:
                raise self._fail_result(loaded, "loading the screen file")
            started = vm.run(self._glue[b"start"], vm.sandbox.get_global("screen"), ctx)
            if not started.ok:
                raise self._fail_result(started, "screen(ctx)")
            self._co = started.values[0]
            value = self._outcome(started.values[1:])
        if isinstance(value, CLOSING):
            self._end()
        return value

    def _resume(self, event: dict[str, Any]) -> ScreenYield:
        try:
            with self._checkout():
                result = self._vm.run(self._glue[b"resume"], self._co, event)
                if not result.ok:
                    raise self._fail_result(result, f"the {event['type']} event")
                value = self._outcome(result.values)
        except PluginScreenError:
            self._end()
            raise
        if isinstance(value, CLOSING):
            self._end()
        return value

    def _checkout(self) -> Any:
        options = self._instance.ctx.options
        return self._vm.checkout(
            timeout=options.timeout, ops=options.max_ops, label=f"screen {self._info.path}"
        )

    def _outcome(self, values: tuple[Any, ...]) -> ScreenYield:
        """Convert one step's ``("yield", value)`` or ``("return",)``, inside the
        checkout (the VM is not back in the pool while its value is read)."""
        if not values or values[0] == b"return":
            return Quit()
        raw = values[1] if len(values) > 1 else None
        kind = lua_type(raw)
        if kind is not None and kind != "table":
            raise self._fail(
                f"yielded a {kind} value; expected a layout, a primitive or an action table"
            )
        try:
            data = from_lua(raw, max_depth=SCREEN_MAX_DEPTH, max_nodes=SCREEN_MAX_NODES)
            value = parse_yield(data, self._info.plugin)
        except (ConversionError, ScreenValueError) as exc:
            raise self._fail(f"yielded an invalid value: {exc}") from None
        self._instance.breaker.record_success()
        return value

    def _fail_result(self, result: ExecResult, doing: str) -> PluginScreenError:
        if result.status in (ExecStatus.TIMEOUT, ExecStatus.BUDGET):
            kind = "stopped"
        elif result.status is ExecStatus.MEMORY:
            kind = "ran out of memory"
        else:
            kind = "failed"
        return self._fail(f"{kind} in {doing}: {result.message}", status=result.status.value)

    def _fail(self, message: str, status: str = "error") -> PluginScreenError:
        """Log and count a failure; returns the error to raise (the caller ends the
        session once the checkout is over)."""
        info = self._info
        log.warning("plugin %s screen %s: %s", info.plugin, info.name, message)
        self._host.metrics.inc(
            "plugin.errors", {"plugin": info.plugin, "error_type": f"screen_{status}"}
        )
        self._instance.breaker.record_failure(f"screen {info.name}: {message}")
        return PluginScreenError(f'plugin "{info.plugin}" screen "{info.name}" {message}')

    def _end(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._co = None
        pool = self._instance.pool
        if pool is not None:
            pool.release(self._vm)
        self._host.forget(self)


class ScreenHost:
    """The plugins a TUI process loaded for their screens, and the open screens."""

    def __init__(
        self,
        plugin_dir: Path,
        db: Database,
        services: Any = None,
        options: RuntimeOptions | None = None,
    ) -> None:
        self.plugin_dir = Path(plugin_dir)
        self.options = options or RuntimeOptions()
        host = HostServices(store=PluginStore(db), core=getattr(services, "plugin_core", None))
        self.approvals = ApprovalStore(db)
        self.manager = PluginManager(self.plugin_dir, self.options, host, self.approvals)
        host.outbound = OutboundEngine(
            self.options,
            host.metrics,
            approved=lambda plugin, domain: self.manager.approvals_snapshot.domain(plugin, domain),
        )
        self.services = host
        self.metrics = host.metrics
        self._lock = threading.Lock()
        self._open: set[ScreenRun] = set()
        self.closed = False

    def open(
        self,
        plugin: str,
        screen: str,
        width: int,
        height: int,
        params: Mapping[str, str] | None = None,
    ) -> ScreenRun:
        """Load ``plugin`` if needed and start ``screens/<screen>.lua`` with an init
        event; raises ``NotFound``, ``PluginLoadError`` (disabled, invalid, failed) or
        :class:`PluginScreenError`."""
        if not _simple(screen):
            raise NotFound("screen", f"{plugin}/{screen}", f'invalid screen name "{screen}"')
        instance = self.instance(plugin)
        if not instance.breaker.allow():
            raise PluginError(
                f'plugin "{plugin}" is temporarily disabled after repeated failures '
                f"({instance.breaker.reason})"
            )
        declared = {s.name: s for s in instance.manifest.screens}
        found = declared.get(screen)
        info = ScreenInfo(
            plugin,
            screen,
            found.label if found else "",
            found.icon if found else "",
            found.hidden if found else False,
        )
        run = ScreenRun(self, instance, info, width, height, params)
        with self._lock:
            if not run.closed:
                self._open.add(run)
        return run

    def forget(self, run: ScreenRun) -> None:
        with self._lock:
            self._open.discard(run)

    def instance(self, name: str) -> PluginInstance:
        """The running instance of ``name``, loading it (and its dependencies) first."""
        with self._lock:
            if self.closed:
                raise PluginError("plugin screens are shut down")
            self.manager.refresh_approvals()
            if self.manager.approvals_snapshot.status.get(name) == "disabled":
                raise PluginLoadError(f'plugin "{name}" is disabled')
            instance = self.manager.instance(name)
            if instance is None:
                self._load(name)
                instance = self.manager.instance(name)
        if instance is None:
            raise NotFound("plugin", name, f"plugin not found: {name}")
        if not instance.running:
            reason = instance.failed_reason or instance.state.value
            raise PluginLoadError(f'plugin "{name}" is not running: {reason}')
        return instance

    def reload(self, name: str) -> None:
        """Load ``name`` afresh for the screens opened from now on, when this process has
        loaded it: edits to ``init.lua``, ``lib/`` and the manifest show without restarting
        the terminal admin. Blue-green, like a server's reload: screens already open keep
        the old VMs until they close, and a failing new version leaves the old one in
        place (the ``PluginLoadError`` says why)."""
        with self._lock:
            if self.closed or self.manager.instance(name) is None:
                return
        self.manager.reload(name)

    def _load(self, name: str) -> None:
        found = discover(
            self.plugin_dir, limits=self.options.limits, timeout=self.options.manifest_timeout
        )
        by_name = {p.name: p for p in found.plugins}
        if name not in by_name:
            problem = dict(found.problems).get(name)
            if problem:
                raise PluginLoadError(f'plugin "{name}" is invalid: {problem}')
            raise NotFound("plugin", name, f"plugin not found: {name}")
        wanted: dict[str, PluginSource] = {}
        todo = [name]
        while todo:
            current = todo.pop()
            if current in wanted or self.manager.instance(current) is not None:
                continue
            source = by_name.get(current)
            if source is None:
                raise PluginLoadError(f'plugin "{name}" depends on "{current}" which is missing')
            wanted[current] = source
            todo.extend(source.manifest.dependencies)
        statuses = self.manager.approvals_snapshot.status
        for source in dependency_order(list(wanted.values())):
            if statuses.get(source.name) == "disabled":
                raise PluginLoadError(f'plugin "{source.name}" is disabled')
            m = source.manifest
            self.approvals.register_plugin(
                m.name, m.version, m.description, m.author, m.core_access_map
            )
            self.manager.refresh_approvals(force=True)
            self.manager.order.append(source.name)
            self.manager.load(source)

    # -- fetch and request --------------------------------------------------------------

    def fetch(self, plugin: str, action: Fetch) -> Any:
        """Rows of the plugin's own table, as ``db.query`` would return them."""
        store = self.services.store
        options = json.loads(action.query) or None
        with store.deadline(time.monotonic() + self.options.timeout):
            return store.query(plugin, action.table, options)

    def request(self, plugin: str, action: Request) -> dict[str, Any]:
        """Send ``action`` through the outbound engine; ``{"error": ...}`` on refusal."""
        if action.method not in METHODS:
            return {"error": f'request: invalid method "{action.method}"'}
        try:
            parts = urlsplit(action.url)
            parts.port  # noqa: B018 - raises for a malformed port
        except ValueError as exc:
            return {"error": f"request: invalid URL: {exc}"}
        if parts.username is not None or parts.password is not None:
            return {"error": "request: URLs with credentials (user:pass@) are not allowed"}
        if not parts.scheme or not parts.hostname:
            return {"error": "request: URL needs a scheme and a host"}
        self.manager.refresh_approvals()
        engine = self.services.outbound
        assert engine is not None
        response: dict[str, Any] = engine.send(
            OutboundRequest(
                plugin=plugin,
                method=action.method,
                url=action.url,
                headers=dict(action.headers),
                body=action.body.encode("utf-8") if action.body is not None else None,
                timeout=self.options.request_timeout,
                parse_json=True,
            )
        )
        return response

    def close(self) -> None:
        """Close every open screen, then run ``on_shutdown`` and close the VMs."""
        with self._lock:
            self.closed = True
            runs = list(self._open)
        for run in runs:
            run.close()
        self.manager.shutdown()
