"""One loaded plugin instance: its VMs, breaker, state and what it registered.

:func:`build_instance` follows spec §1.5: create every VM (each runs ``init.lua``), take
one VM and run ``on_init`` there, put every VM into phase ``runtime`` (the original left
all but one in ``module_scope``, spec [GO-BUG] §1.4), snapshot each VM's globals, and keep
the init VM's registrations as the plugin's routes, middleware, hooks and domains.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from modulacms.errors import PluginLoadError
from modulacms.plugin_runtime.breaker import CircuitBreaker
from modulacms.plugin_runtime.manifest import Manifest
from modulacms.plugin_runtime.pool import VMPool
from modulacms.plugin_runtime.vm import Phase, PluginContext, PluginVM, Registrations, failed

log = logging.getLogger(__name__)


class PluginState(StrEnum):
    DISCOVERED = "discovered"
    LOADING = "loading"
    RUNNING = "running"
    FAILED = "failed"
    STOPPED = "stopped"


@dataclass
class PluginInstance:
    """A plugin as the manager sees it."""

    ctx: PluginContext
    state: PluginState = PluginState.LOADING
    pool: VMPool | None = None
    breaker: CircuitBreaker = field(default_factory=CircuitBreaker)
    registered: Registrations = field(default_factory=Registrations)
    failed_reason: str = ""
    loaded_at: float = field(default_factory=time.time)
    schema_drift: list[Any] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def name(self) -> str:
        return self.ctx.name

    @property
    def manifest(self) -> Manifest:
        return self.ctx.source.manifest

    @property
    def version(self) -> str:
        return self.manifest.version

    @property
    def running(self) -> bool:
        return self.state is PluginState.RUNNING

    def fail(self, reason: str) -> None:
        self.state = PluginState.FAILED
        self.failed_reason = reason


def fresh_vm(ctx: PluginContext, index: int = 0) -> PluginVM:
    """A replacement VM: module scope re-run, ``on_init`` not (spec §10.1)."""
    vm = PluginVM(ctx, index=index)
    result = vm.load(ctx.options.timeout)
    if failed(result):
        log.warning("plugin %s: module scope failed on a new VM: %s", ctx.name, result.message)
    vm.phase = Phase.RUNTIME
    vm.snapshot_globals()
    return vm


def build_instance(ctx: PluginContext, breaker: CircuitBreaker) -> PluginInstance:
    """Create the pool and run ``on_init``; raises :class:`PluginLoadError` on failure
    (the VMs are closed then)."""
    options = ctx.options
    vms: list[PluginVM] = []
    try:
        for index in range(max(1, options.max_vms)):
            vm = PluginVM(ctx, index=index)
            vms.append(vm)
            result = vm.load(options.timeout)
            if failed(result):
                log.warning("plugin %s: module scope failed: %s", ctx.name, result.message)
                if index == 0:
                    raise PluginLoadError(f"executing init.lua: {result.message}")
    except BaseException:
        for vm in vms:
            vm.close()
        raise
    pool = VMPool(
        ctx.name,
        vms,
        reserved=options.reserved_vms,
        factory=lambda: fresh_vm(ctx),
        checkout_timeout=options.checkout_timeout,
        metrics=ctx.services.metrics,
    )
    instance = PluginInstance(ctx=ctx, pool=pool, breaker=breaker)
    try:
        init_vm = pool.acquire(timeout=options.checkout_timeout)
    except Exception as exc:
        pool.close()
        raise PluginLoadError(f"no VM for on_init: {exc}") from exc
    try:
        outcome = init_vm.call_global("on_init", Phase.INIT, timeout=options.timeout)
        if outcome is not None and failed(outcome):
            raise PluginLoadError(f"on_init failed: {outcome.message}")
        for vm in vms:
            vm.phase = Phase.RUNTIME
            vm.snapshot_globals()
        instance.registered = init_vm.registered
    except BaseException:
        pool.release(init_vm)
        pool.close()
        raise
    pool.release(init_vm)
    instance.state = PluginState.RUNNING
    return instance


def shutdown_instance(instance: PluginInstance, timeout: float) -> None:
    """Run ``on_shutdown`` on one VM (errors only logged) and close the pool."""
    pool = instance.pool
    if pool is None:
        return
    if instance.running:
        try:
            vm = pool.acquire(timeout=1.0)
        except Exception as exc:
            log.warning("plugin %s: no VM for on_shutdown: %s", instance.name, exc)
        else:
            try:
                result = vm.call_global("on_shutdown", Phase.SHUTDOWN, timeout=timeout)
                if failed(result):
                    assert result is not None
                    log.warning("plugin %s: on_shutdown failed: %s", instance.name, result.message)
            finally:
                pool.release(vm)
    pool.close()
