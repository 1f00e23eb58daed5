"""One VM of one plugin: the sandbox, the frozen API modules, the phase, the op budget
and what the plugin registered at module scope.

A :class:`PluginContext` is shared by all VMs of one loaded plugin instance (manifest,
options, logger, ``require`` resolver, the source of ``init.lua`` and the host services
the API modules call). A :class:`PluginVM` is used by one thread at a time: the pool
hands it out, :meth:`PluginVM.checkout` arms it for one execution (deadline, op budget,
before-hook flag), and :meth:`PluginVM.release` cleans it afterwards (new globals
removed, health checked).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from modulacms.plugin_runtime.api.log import PluginLogger
from modulacms.plugin_runtime.loader import ModuleResolver, PluginSource
from modulacms.plugin_runtime.options import RuntimeOptions
from modulacms.plugin_runtime.sandbox import ExecResult, ExecStatus, HostRaise, Sandbox

if TYPE_CHECKING:
    from modulacms.plugin_runtime.services import HostServices

log = logging.getLogger(__name__)

Installer = Callable[["PluginVM"], Any]


class Phase(StrEnum):
    """Where a VM is in its life (spec §1.4); kept on the host, invisible to Lua."""

    MODULE_SCOPE = "module_scope"
    INIT = "init"
    RUNTIME = "runtime"
    SHUTDOWN = "shutdown"


@dataclass
class ExecContext:
    """Mutable state of the current execution, read by host functions."""

    ops_limit: int
    ops_used: int = 0
    before_hook: bool = False
    transaction: Any = None
    request_id: str | None = None
    label: str = ""
    deadline: float = 0.0


@dataclass(frozen=True, slots=True)
class RouteRegistration:
    method: str
    path: str
    public: bool
    handler: Any

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"


@dataclass(frozen=True, slots=True)
class HookRegistration:
    event: str
    table: str
    priority: int
    order: int
    handler: Any

    @property
    def is_wildcard(self) -> bool:
        return self.table == "*"


@dataclass
class Registrations:
    """What one VM's module scope registered (spec §6.1, §7.1, §8.1)."""

    routes: dict[str, RouteRegistration] = field(default_factory=dict)
    middleware: list[Any] = field(default_factory=list)
    hooks: list[HookRegistration] = field(default_factory=list)
    domains: dict[str, str] = field(default_factory=dict)


@dataclass
class PluginContext:
    """Shared by every VM of one plugin instance."""

    source: PluginSource
    options: RuntimeOptions
    logger: PluginLogger
    resolver: ModuleResolver
    init_source: bytes
    services: HostServices
    modules: tuple[tuple[str, Installer], ...] = ()

    @property
    def name(self) -> str:
        return self.source.name

    @property
    def version(self) -> str:
        return self.source.manifest.version


class PluginVM:
    """A plugin VM with its API modules installed (``init.lua`` not yet run)."""

    def __init__(self, ctx: PluginContext, *, index: int = 0) -> None:
        self.ctx = ctx
        self.index = index
        self.phase = Phase.MODULE_SCOPE
        self.exec = ExecContext(ops_limit=ctx.options.max_ops)
        self.registered = Registrations()
        self.keep: Any = None
        self.module_error: str | None = None
        self.sandbox = Sandbox(
            name=ctx.name,
            limits=ctx.options.limits,
            coroutines=True,
            source_loader=ctx.resolver,
            print_sink=ctx.logger.print,
        )
        for name, installer in ctx.modules:
            self.sandbox.install_module(name, installer(self))

    @property
    def name(self) -> str:
        return self.ctx.name

    # -- running code -------------------------------------------------------------------

    @contextmanager
    def checkout(
        self,
        *,
        timeout: float,
        ops: int,
        before_hook: bool = False,
        request_id: str | None = None,
        label: str = "",
    ) -> Iterator[PluginVM]:
        """Arm the VM for one execution: deadline, fresh op budget, hook flag."""
        self.exec = ExecContext(
            ops_limit=ops,
            before_hook=before_hook,
            request_id=request_id,
            label=label,
            deadline=time.monotonic() + timeout,
        )
        try:
            with self.sandbox.checkout(timeout):
                yield self
        finally:
            self._end_exec()

    def _end_exec(self) -> None:
        stack = self.exec.transaction
        if stack is not None:
            # db.transaction's glue always finishes; this only guards against a host
            # error between begin and finish leaving the writer lock held.
            abandoned = RuntimeError("execution ended inside db.transaction")
            with contextlib.suppress(RuntimeError):
                stack.__exit__(RuntimeError, abandoned, None)
        self.exec = ExecContext(ops_limit=self.ctx.options.max_ops)

    def run(self, fn: Any, *args: Any) -> ExecResult:
        """Call a plugin function inside the current checkout."""
        return self.sandbox.run(fn, *args)

    def run_once(
        self,
        fn: Any,
        *args: Any,
        timeout: float,
        ops: int,
        before_hook: bool = False,
        scalars: bool = False,
    ) -> ExecResult:
        """A checkout with a single call (hooks): the same limits as :meth:`checkout`
        plus :meth:`run`, with one call into Lua instead of four (``scalars``: see
        :meth:`Sandbox.run_once`)."""
        self.exec = ExecContext(
            ops_limit=ops,
            before_hook=before_hook,
            deadline=time.monotonic() + timeout,
        )
        try:
            return self.sandbox.run_once(fn, *args, timeout=timeout, scalars=scalars)
        finally:
            self._end_exec()

    def execute(self, fn: Any, *args: Any, timeout: float, ops: int | None = None) -> ExecResult:
        with self.checkout(timeout=timeout, ops=self.ctx.options.max_ops if ops is None else ops):
            return self.run(fn, *args)

    def load(self, timeout: float) -> ExecResult:
        """Run ``init.lua`` (module scope); registrations land in :attr:`registered`."""
        fn = self.sandbox.compile(self.ctx.init_source, f"{self.name}/init.lua")
        self.phase = Phase.MODULE_SCOPE
        result = self.execute(fn, timeout=timeout)
        if not result.ok:
            self.module_error = result.message
        return result

    def call_global(
        self, name: str, phase: Phase, *, timeout: float, ops: int | None = None
    ) -> ExecResult | None:
        """Call global function ``name`` (``on_init``, ``on_shutdown``) in ``phase``;
        None when the plugin does not define it."""
        if self.sandbox.global_type(name) != "function":
            return None
        previous, self.phase = self.phase, phase
        try:
            return self.execute(self.sandbox.get_global(name), timeout=timeout, ops=ops)
        finally:
            if self.phase is phase:
                self.phase = previous

    def snapshot_globals(self) -> None:
        """Remember the global names that survive every later execution (spec §10.1)."""
        self.keep = self.sandbox.global_names()
        self.sandbox.keep_globals(self.keep)

    def release(self) -> bool:
        """Clean up after an execution; False when the VM must be replaced."""
        if self.sandbox.closed:
            return False
        intact = True
        if self.keep is not None:
            intact = self.sandbox.reset_globals(self.keep)
        if not intact:
            log.warning("plugin %s replaced an API module global; discarding VM", self.name)
            return False
        if self.sandbox.needs_recycle():
            log.info("plugin %s VM near its memory limit; recycling", self.name)
            return False
        return True

    def close(self) -> None:
        self.sandbox.close()

    # -- helpers for host functions ----------------------------------------------------

    def charge(self, count: int = 1) -> None:
        """Count ``count`` db/core operations against the budget (spec §4.3)."""
        if self.exec.before_hook:
            raise HostRaise(f'plugin "{self.name}": db.* calls are not allowed inside before-hooks')
        self.exec.ops_used += count
        if self.exec.ops_used > self.exec.ops_limit:
            raise HostRaise(
                f'plugin "{self.name}" exceeded maximum operations per execution '
                f"({self.exec.ops_limit}): operation limit exceeded"
            )

    def ops_left(self) -> int:
        return self.exec.ops_limit - self.exec.ops_used

    def require_phase(self, function: str, message: str) -> None:
        """Raise ``message`` unless the VM is at module scope (registration calls)."""
        if self.phase is not Phase.MODULE_SCOPE:
            raise HostRaise(message)


def failed(result: ExecResult | None) -> bool:
    return result is not None and result.status is not ExecStatus.OK
