"""The plugin manager: discovery, loading, reload, enable/disable, approvals, shutdown.

``PluginManager.load_all()`` follows spec §1.2: discover, auto-register every plugin in
the ``plugins`` table, order by dependencies (a missing dependency or a cycle fails the
whole load), prune approval rows of vanished plugins, then load each plugin (a failure
marks that plugin ``failed`` and loading continues). Beyond the original, a plugin whose
database status is ``disabled`` (``modulacms plugin disable``, with or without a server)
stays stopped.

Reload is blue-green: the new instance is built completely (new VMs, ``on_init``) while
the old one keeps serving; only on success does it replace the old one, whose pool is then
drained in the background. A failed reload leaves the old instance in place. Routes,
hooks and outbound approvals are re-registered for the new instance (the original dropped
them, spec [GO-BUG] §1.6), so approved routes never disappear.

The :class:`Coordinator` thread applies database changes made elsewhere (CLI approvals,
enable/disable, reload requests) within ``sync_interval`` seconds, and runs the hot
reload watcher when enabled.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

from modulacms.errors import NotFound, PluginLoadError
from modulacms.plugin_runtime.approvals import ApprovalBackend, ApprovalSnapshot, MemoryApprovals
from modulacms.plugin_runtime.breaker import CircuitBreaker
from modulacms.plugin_runtime.health import HealthRecorder
from modulacms.plugin_runtime.hooks import HookEngine
from modulacms.plugin_runtime.instance import (
    PluginInstance,
    PluginState,
    build_instance,
    shutdown_instance,
)
from modulacms.plugin_runtime.loader import (
    PluginSource,
    dependency_order,
    discover,
    extract_manifest,
    plugin_root,
)
from modulacms.plugin_runtime.modules import make_context
from modulacms.plugin_runtime.options import RuntimeOptions
from modulacms.plugin_runtime.services import HostServices
from modulacms.plugin_runtime.vm import Installer

log = logging.getLogger(__name__)


class PluginManager:
    """All plugins of one plugin directory, for one process."""

    def __init__(
        self,
        plugin_dir: Path,
        options: RuntimeOptions | None = None,
        services: HostServices | None = None,
        approvals: ApprovalBackend | None = None,
        *,
        modules: tuple[tuple[str, Installer], ...] | None = None,
        record_health: bool = False,
    ) -> None:
        self.plugin_dir = Path(plugin_dir)
        self.options = options or RuntimeOptions()
        self.services = services or HostServices()
        self.approvals: ApprovalBackend = approvals or MemoryApprovals()
        # Only the serving process records breaker states and errors where the admin
        # tools read them: a terminal admin running a plugin's screens, or a CLI loading
        # a plugin to sync or test it, must not overwrite what a running server recorded.
        self.health = HealthRecorder(self.approvals) if record_health else None
        self.modules = modules
        self.metrics = self.services.metrics
        self._lock = threading.RLock()
        self._reload_lock = threading.Lock()
        self.instances: dict[str, PluginInstance] = {}
        self.order: list[str] = []
        self.problems: list[tuple[str, str]] = []
        self.approvals_snapshot: ApprovalSnapshot = ApprovalSnapshot()
        self._approvals_version: int | None = None
        if self.services.access is None:
            self.services.access = lambda name: self.approvals_snapshot.access.get(name, {})
        self.hooks = HookEngine(self)
        self.last_reload: dict[str, float] = {}
        self.closed = False

    # -- queries ------------------------------------------------------------------------

    def instance(self, name: str) -> PluginInstance | None:
        with self._lock:
            return self.instances.get(name)

    def running(self, name: str) -> PluginInstance | None:
        instance = self.instances.get(name)
        if instance is not None and instance.running:
            return instance
        return None

    def names(self) -> list[str]:
        with self._lock:
            return list(self.instances)

    def require(self, name: str) -> PluginInstance:
        instance = self.instance(name)
        if instance is None:
            raise NotFound("plugin", name, "plugin not found")
        return instance

    # -- approvals ----------------------------------------------------------------------

    def refresh_approvals(self, force: bool = False) -> bool:
        """Reload the approval snapshot when the store changed; True when it did."""
        version = self.approvals.version()
        if not force and version == self._approvals_version:
            return False
        self.approvals_snapshot = self.approvals.snapshot()
        self._approvals_version = version
        return True

    # -- loading ------------------------------------------------------------------------

    def load_all(self) -> None:
        """Discover and load every plugin (spec §1.2); raises on dependency errors."""
        found = discover(
            self.plugin_dir, limits=self.options.limits, timeout=self.options.manifest_timeout
        )
        self.problems = found.problems
        for source in found.plugins:
            m = source.manifest
            self.approvals.register_plugin(
                m.name, m.version, m.description, m.author, m.core_access_map
            )
        ordered = dependency_order(found.plugins)
        self.approvals.prune(p.name for p in ordered)
        self.refresh_approvals(force=True)
        self.order = [p.name for p in ordered]
        statuses = self.approvals_snapshot.status
        for source in ordered:
            if statuses.get(source.name) == "disabled":
                self._set_stopped(source, "disabled")
                continue
            self.load(source)

    def _set_stopped(self, source: PluginSource, reason: str) -> PluginInstance:
        ctx = make_context(source, self.options, self.services, self.modules)
        instance = PluginInstance(ctx=ctx, state=PluginState.STOPPED)
        instance.failed_reason = reason
        with self._lock:
            self.instances[source.name] = instance
        return instance

    def _breaker(self, name: str) -> CircuitBreaker:
        def tripped(reason: str) -> None:
            self.metrics.inc("plugin.circuit_breaker.trip", {"plugin": name})
            log.warning("plugin %s circuit breaker opened: %s", name, reason)

        health = self.health
        return CircuitBreaker(
            self.options.max_failures,
            self.options.reset_interval,
            on_trip=tripped,
            on_report=None
            if health is None
            else lambda state, error: health.report(name, state.value, error),
        )

    def _started(self, instance: PluginInstance) -> None:
        """Record the fresh breaker of a started instance (closed), replacing whatever an
        earlier process left recorded."""
        if self.health is not None:
            self.health.report(instance.name, instance.breaker.state.value, None)

    def _check_dependencies(self, source: PluginSource) -> None:
        for dep in source.manifest.dependencies:
            other = self.instances.get(dep)
            if other is None:
                raise PluginLoadError(f'dependency "{dep}" not found')
            if not other.running:
                raise PluginLoadError(
                    f'dependency "{dep}" is in state {other.state.value}, not running'
                )

    def _build(self, source: PluginSource) -> PluginInstance:
        self._check_dependencies(source)
        ctx = make_context(source, self.options, self.services, self.modules)
        instance = build_instance(ctx, self._breaker(source.name))
        try:
            self._register(instance)
        except Exception as exc:
            if instance.pool is not None:
                instance.pool.close()
            raise PluginLoadError(f"registering routes and hooks failed: {exc}") from exc
        store = self.services.store
        if store is not None:
            try:
                instance.schema_drift = list(store.schema_drift(source.name))
            except Exception:
                log.exception("plugin %s: schema drift check failed", source.name)
        return instance

    def _register(self, instance: PluginInstance) -> None:
        reg = instance.registered
        self.approvals.sync(
            instance.name,
            instance.version,
            [(r.method, r.path, r.public) for r in reg.routes.values()],
            [(h.event, h.table, h.priority) for h in reg.hooks],
            sorted(reg.domains.items()),
        )
        self.refresh_approvals(force=True)

    def load(self, source: PluginSource) -> PluginInstance:
        """Load one plugin; on failure it is kept in state ``failed`` with the reason."""
        try:
            instance = self._build(source)
        except PluginLoadError as exc:
            log.warning("plugin %s failed to load: %s", source.name, exc.message)
            failed = self._set_stopped(source, exc.message)
            failed.state = PluginState.FAILED
            return failed
        except Exception as exc:
            log.exception("plugin %s failed to load", source.name)
            failed = self._set_stopped(source, f"internal error: {exc}")
            failed.state = PluginState.FAILED
            return failed
        with self._lock:
            self.instances[source.name] = instance
        self.hooks.register(instance)
        self._started(instance)
        log.info("plugin %s %s running", instance.name, instance.version)
        return instance

    def reload(self, name: str) -> PluginInstance:
        """Blue-green reload (spec §1.6); raises when the new instance fails."""
        if not self._reload_lock.acquire(timeout=30):
            raise PluginLoadError(f'plugin "{name}" reload failed: another reload is running')
        try:
            return self._reload(name)
        finally:
            self._reload_lock.release()

    def _reload(self, name: str) -> PluginInstance:
        old = self.instance(name)
        directory = old.ctx.source.directory if old else self.plugin_dir / name
        try:
            manifest = extract_manifest(
                directory, limits=self.options.limits, timeout=self.options.manifest_timeout
            )
            if manifest.name != name:
                raise PluginLoadError(f'plugin_info.name "{manifest.name}" must be "{name}"')
            source = PluginSource(directory, plugin_root(directory), manifest)
            self.approvals.register_plugin(
                name,
                manifest.version,
                manifest.description,
                manifest.author,
                manifest.core_access_map,
            )
            new = self._build(source)
        except PluginLoadError as exc:
            self.metrics.inc("plugin.reload", {"plugin": name, "status": "error"})
            still = " (old version still running)" if old is not None and old.running else ""
            raise PluginLoadError(f'plugin "{name}" reload failed: {exc.message}{still}') from exc
        with self._lock:
            self.instances[name] = new
            if name not in self.order:
                self.order.append(name)
        self.hooks.register(new)
        self._started(new)
        self.last_reload[name] = time.monotonic()
        self.metrics.inc("plugin.reload", {"plugin": name, "status": "success"})
        if old is not None and old.pool is not None:
            self._drain_later(old)
        log.info("plugin %s reloaded (%s)", name, new.version)
        return new

    def _drain_later(self, old: PluginInstance) -> None:
        def drain() -> None:
            assert old.pool is not None
            if not old.pool.drain(self.options.drain_timeout):
                log.warning("plugin %s: old VMs still busy after drain timeout", old.name)

        threading.Thread(target=drain, name=f"drain-{old.name}", daemon=True).start()

    # -- enable / disable ---------------------------------------------------------------

    def deactivate(self, name: str, reason: str = "disabled by admin") -> PluginInstance:
        """Admin disable: ``on_shutdown``, state ``stopped``, breaker tripped, DB status
        ``disabled``. Idempotent."""
        instance = self.require(name)
        self.approvals.set_status(name, "disabled")
        if instance.state is PluginState.STOPPED:
            return instance
        self.hooks.unregister(name)
        shutdown_instance(instance, self.options.shutdown_timeout)
        instance.breaker.trip(reason)
        instance.state = PluginState.STOPPED
        instance.failed_reason = ""
        self.refresh_approvals(force=True)
        return instance

    def activate(self, name: str, actor: str = "admin") -> PluginInstance:
        """Admin enable: reset the breaker, reload, DB status ``enabled``."""
        instance = self.require(name)
        log.info(
            "plugin %s enabled by %s (breaker was %s, %d errors)",
            name,
            actor,
            instance.breaker.state.value,
            instance.breaker.failures,
        )
        instance.breaker.reset()
        self.approvals.set_status(name, "enabled")
        new = self.reload(name)
        self.refresh_approvals(force=True)
        return new

    def evict(self, name: str, reason: str) -> None:
        """The plugin vanished: ``on_shutdown``, state ``failed``, breaker tripped."""
        instance = self.instance(name)
        if instance is None:
            return
        self.hooks.unregister(name)
        shutdown_instance(instance, self.options.shutdown_timeout)
        instance.breaker.trip(reason)
        instance.fail(reason)

    def shutdown(self) -> None:
        """``on_shutdown`` in reverse load order, then close everything (spec §10.8)."""
        if self.closed:
            return
        self.closed = True
        self.hooks.close(self.options.drain_timeout)
        with self._lock:
            order = [n for n in reversed(self.order) if n in self.instances]
            order += [n for n in self.instances if n not in order]
            instances = [self.instances[n] for n in order]
        for instance in instances:
            try:
                shutdown_instance(instance, self.options.shutdown_timeout)
            except Exception:
                log.exception("plugin %s: shutdown failed", instance.name)
            if instance.running:
                instance.state = PluginState.STOPPED
        if self.health is not None:
            self.health.flush()
            self.health.close()

    # -- info ---------------------------------------------------------------------------

    def info(self, name: str) -> dict[str, Any]:
        """The admin API's plugin info (spec §12)."""
        instance = self.require(name)
        m = instance.manifest
        pool = instance.pool
        data: dict[str, Any] = {
            "name": m.name,
            "version": m.version,
            "description": m.description,
            "state": instance.state.value,
            "circuit_breaker_state": instance.breaker.state.value,
            "circuit_breaker_errors": instance.breaker.failures,
            "vms_available": pool.available if pool else 0,
            "vms_total": pool.total if pool else 0,
        }
        if m.author:
            data["author"] = m.author
        if m.license:
            data["license"] = m.license
        if instance.failed_reason and instance.state is PluginState.FAILED:
            data["failed_reason"] = instance.failed_reason
        if m.dependencies:
            data["dependencies"] = list(m.dependencies)
        if instance.schema_drift:
            data["schema_drift"] = [_drift(d) for d in instance.schema_drift]
        if m.ui is not None:
            data["ui"] = {"tag": m.ui.tag, "bundle": m.ui.bundle, "has_admin": m.ui.has_admin}
        return data

    def summaries(self) -> list[dict[str, Any]]:
        with self._lock:
            names = list(self.instances)
        out = []
        for name in names:
            instance = self.instances[name]
            out.append(
                {
                    "name": name,
                    "version": instance.version,
                    "description": instance.manifest.description,
                    "state": instance.state.value,
                    "circuit_breaker_state": instance.breaker.state.value,
                }
            )
        return out


def _drift(entry: Any) -> dict[str, Any]:
    if isinstance(entry, dict):
        return entry
    return {k: getattr(entry, k) for k in ("table", "kind", "column") if hasattr(entry, k)}
