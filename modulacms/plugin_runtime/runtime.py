"""The plugin runtime of a serving process: what the composition root builds and closes.

:class:`PluginRuntime` wires the manager to the project's database (``PluginStore`` for
``db.*``, ``PluginCoreService`` for core writes, ``ApprovalStore`` for approvals), the
outbound engine and the HTTP bridge, installs the hook engine as the services' hook
dispatcher (wrapped in :class:`RuntimeHooks`, whose ``reads`` the public delivery
endpoint uses for ``before_read``/``after_read``), and runs two background threads:

* :class:`Coordinator` — every ``sync_interval`` seconds it checks whether the database
  changed (``PRAGMA data_version``); if so it reloads the approval snapshot and brings
  each plugin to the state its ``plugins`` row asks for: ``disabled`` stops it, any other
  status starts a stopped one, and a ``date_modified`` newer than the instance (written by
  ``modulacms plugin reload``) reloads it. So CLI commands made against the database take
  effect in a running server within about one interval.
* :class:`HotReloader` (``hot_reload``) — watches the plugin directory (watchfiles),
  confirms a change with a checksum of every ``*.lua`` file of the plugin (``lib/``
  included, ``test/`` excluded), waits until it has been stable for ``debounce`` seconds,
  and reloads unless the plugin was reloaded less than ``cooldown`` seconds ago.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from modulacms.core.clock import parse_ts
from modulacms.core.events import NullDispatcher
from modulacms.db.connection import Database
from modulacms.db.plugin_store import PluginStore
from modulacms.errors import ModulaError
from modulacms.plugin_runtime.approvals import ApprovalStore
from modulacms.plugin_runtime.bridge import PluginBridge
from modulacms.plugin_runtime.instance import PluginState
from modulacms.plugin_runtime.manager import PluginManager
from modulacms.plugin_runtime.options import RuntimeOptions
from modulacms.plugin_runtime.outbound import OutboundEngine
from modulacms.plugin_runtime.read_hooks import RuntimeHooks
from modulacms.plugin_runtime.services import HostServices

log = logging.getLogger(__name__)

MAX_FILES = 100
MAX_BYTES = 10 * 1024 * 1024


class PluginRuntime:
    """Manager, bridge, coordinator and watcher of one process."""

    def __init__(
        self,
        db: Database,
        services: Any,
        plugin_dir: Path,
        options: RuntimeOptions | None = None,
    ) -> None:
        self.db = db
        self.services = services
        self.options = options or RuntimeOptions()
        host = HostServices(store=PluginStore(db), core=getattr(services, "plugin_core", None))
        self.approvals = ApprovalStore(db)
        self.manager = PluginManager(
            Path(plugin_dir), self.options, host, self.approvals, record_health=True
        )
        host.outbound = OutboundEngine(
            self.options,
            host.metrics,
            approved=lambda plugin, domain: self.manager.approvals_snapshot.domain(plugin, domain),
        )
        self.bridge = PluginBridge(self.manager)
        self.metrics = host.metrics
        self.coordinator = Coordinator(self.manager, self.approvals, self.options.sync_interval)
        self.watcher = HotReloader(self.manager) if self.options.hot_reload else None
        self.started = False

    def start(self) -> PluginRuntime:
        """Create the plugin directory if needed, load every plugin, start the threads."""
        self.manager.plugin_dir.mkdir(mode=0o750, parents=True, exist_ok=True)
        self.manager.load_all()
        self._record_capabilities()
        if hasattr(self.services, "set_hooks"):
            self.services.set_hooks(RuntimeHooks(self.manager.hooks))
        self.coordinator.start()
        if self.watcher is not None:
            self.watcher.start()
        self.started = True
        return self

    def _record_capabilities(self) -> None:
        """Spec §1.2/§9.5: register plugins seen for the first time and record their
        capabilities in the pipeline registry (once; sync-capabilities rewrites them)."""
        from modulacms.plugin_runtime.admin import PluginAdmin

        admin = PluginAdmin(self.manager.plugin_dir, self.db, self.services, self.options)
        manifests = [i.manifest for i in self.manager.instances.values()]
        try:
            recorded = admin.auto_register(manifests)
        except ModulaError as exc:
            log.warning("recording plugin capabilities failed: %s", exc.message)
            return
        if recorded:
            log.info("recorded capabilities of plugins %s", ", ".join(recorded))

    def close(self) -> None:
        """Stop watching, refuse new plugin requests, run ``on_shutdown``, close VMs."""
        if self.watcher is not None:
            self.watcher.stop()
        self.coordinator.stop()
        self.bridge.close(self.options.drain_timeout)
        if hasattr(self.services, "set_hooks"):
            self.services.set_hooks(NullDispatcher())
        self.manager.shutdown()

    def metric_rows(self) -> Iterator[tuple[str, str, dict[str, str], float]]:
        """Every series as ``(name, type, labels, value)`` rows for the admin metrics
        endpoint; histograms as their ``_count``/``_sum`` counters (the full buckets are in
        :meth:`metrics_text`)."""
        for name, labels, value in self.metrics.series("counter"):
            yield name, "counter", labels, value
        for name, labels, value in self.metrics.series("gauge"):
            yield name, "gauge", labels, value
        for name, labels, value in self.metrics.series("histogram"):
            yield name, "counter", labels, value

    def metrics_text(self) -> str:
        return self.metrics.render()


class Coordinator:
    """Applies database-side changes (approvals, enable/disable, reload requests)."""

    def __init__(self, manager: PluginManager, approvals: ApprovalStore, interval: float) -> None:
        self.manager = manager
        self.approvals = approvals
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._version: int | None = None

    def start(self) -> None:
        if self.interval <= 0:
            return
        self._thread = threading.Thread(target=self._loop, name="plugin-coordinator", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.record_gauges()
                self.tick()
            except Exception:
                log.exception("plugin coordinator tick failed")

    def record_gauges(self) -> None:
        """``plugin.vm.available`` per plugin (spec §10.7)."""
        for name in self.manager.names():
            instance = self.manager.instance(name)
            if instance is not None and instance.pool is not None:
                self.manager.metrics.set(
                    "plugin.vm.available", instance.pool.available, {"plugin": name}
                )

    def tick(self) -> None:
        """One round: nothing happens unless the database changed."""
        version = self.approvals.version()
        if version == self._version:
            return
        self._version = version
        self.manager.refresh_approvals(force=True)
        rows = self.approvals.plugin_states()
        for name in self.manager.names():
            self._reconcile(name, rows.get(name))

    def _reconcile(self, name: str, row: tuple[str, str] | None) -> None:
        instance = self.manager.instance(name)
        if instance is None or row is None or self.manager.closed:
            return
        status, modified = row
        try:
            if status == "disabled":
                if instance.state is not PluginState.STOPPED:
                    log.info("plugin %s disabled in the database; stopping it", name)
                    self.manager.deactivate(name)
                return
            if instance.state is PluginState.STOPPED:
                log.info("plugin %s enabled in the database; starting it", name)
                self.manager.activate(name)
                return
            if parse_ts(modified).timestamp() > instance.loaded_at:
                log.info("plugin %s reload requested", name)
                self.manager.reload(name)
        except ModulaError as exc:
            log.warning("plugin %s: %s", name, exc.message)


def plugin_checksum(directory: Path) -> str:
    """SHA-256 over the plugin's ``*.lua`` files (names and contents), ``test/`` excluded;
    symlinks and special files are skipped. Raises ``ValueError`` past the size limits."""
    digest = hashlib.sha256()
    files = []
    for root, dirs, names in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if not (root == str(directory) and d == "test"))
        for name in sorted(names):
            path = Path(root) / name
            if name.endswith(".lua") and path.is_file() and not path.is_symlink():
                files.append(path)
    if len(files) > MAX_FILES:
        raise ValueError(f"more than {MAX_FILES} .lua files")
    total = 0
    for path in files:
        data = path.read_bytes()
        total += len(data)
        if total > MAX_BYTES:
            raise ValueError(f"more than {MAX_BYTES} bytes of Lua")
        digest.update(str(path.relative_to(directory)).encode())
        digest.update(b"\0")
        digest.update(data)
    return digest.hexdigest()


class HotReloader:
    """Reloads a plugin after its Lua files changed (debounce, cooldown, slow pause)."""

    def __init__(
        self,
        manager: PluginManager,
        *,
        debounce: float = 1.0,
        cooldown: float = 10.0,
        slow: float = 10.0,
        poll_interval: float = 2.0,
    ) -> None:
        self.manager = manager
        self.poll_interval = poll_interval
        self.debounce = debounce
        self.cooldown = cooldown
        self.slow = slow
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._baseline: dict[str, str] = {}
        self._pending: dict[str, tuple[str, float]] = {}
        self._slow_count: dict[str, int] = {}
        self.paused: set[str] = set()
        self.reloads = 0

    def start(self) -> None:
        for name in self.manager.names():
            self._baseline[name] = self._checksum(name) or ""
        watcher = threading.Thread(target=self._watch, name="plugin-watch", daemon=True)
        ticker = threading.Thread(target=self._tick_loop, name="plugin-watch-tick", daemon=True)
        self._threads = [watcher, ticker]
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=10)

    def _directory(self, name: str) -> Path:
        instance = self.manager.instance(name)
        return instance.ctx.source.directory if instance else self.manager.plugin_dir / name

    def _checksum(self, name: str) -> str | None:
        try:
            return plugin_checksum(self._directory(name))
        except (OSError, ValueError) as exc:
            log.warning("plugin %s: checksum failed: %s", name, exc)
            return None

    def _watch(self) -> None:
        import watchfiles

        try:
            for changes in watchfiles.watch(
                self.manager.plugin_dir,
                stop_event=self._stop,
                debounce=200,
                raise_interrupt=False,
                force_polling=None,
            ):
                touched = set()
                for _, path in changes:
                    rel = Path(path).resolve().relative_to(self.manager.plugin_dir.resolve())
                    if rel.parts:
                        touched.add(rel.parts[0])
                for name in touched:
                    self._note(name)
        except Exception:
            log.exception("plugin directory watcher stopped")

    def _note(self, name: str) -> None:
        if self.manager.instance(name) is None:
            return
        if not self._directory(name).exists():
            self.manager.evict(name, "plugin files missing from disk")
            return
        checksum = self._checksum(name)
        if checksum is None or checksum == self._baseline.get(name):
            self._pending.pop(name, None)
            return
        pending = self._pending.get(name)
        if pending is None or pending[0] != checksum:
            self._pending[name] = (checksum, time.monotonic())

    def _tick_loop(self) -> None:
        last_poll = time.monotonic()
        while not self._stop.wait(0.2):
            try:
                # Checksums every poll_interval as well: file events can be missed (a
                # change made while the watcher starts, file systems without inotify).
                if time.monotonic() - last_poll >= self.poll_interval:
                    last_poll = time.monotonic()
                    for name in self.manager.names():
                        self._note(name)
                self.tick()
            except Exception:
                log.exception("hot reload tick failed")

    def tick(self) -> None:
        """Reload the plugins whose change has been stable for ``debounce`` seconds."""
        now = time.monotonic()
        for name, (checksum, seen) in list(self._pending.items()):
            if now - seen < self.debounce:
                continue
            if self._checksum(name) != checksum:
                self._pending[name] = (self._checksum(name) or "", now)
                continue
            del self._pending[name]
            self._baseline[name] = checksum
            if name in self.paused:
                continue
            last = self.manager.last_reload.get(name)
            if last is not None and now - last < self.cooldown:
                log.info("plugin %s changed during its reload cooldown; not reloading", name)
                continue
            started = time.monotonic()
            try:
                self.manager.reload(name)
                self.reloads += 1
            except ModulaError as exc:
                log.warning("hot reload of %s failed: %s", name, exc.message)
            if time.monotonic() - started > self.slow:
                self._slow_count[name] = self._slow_count.get(name, 0) + 1
                if self._slow_count[name] >= 3:
                    self.paused.add(name)
                    log.warning("plugin %s reloads are slow; hot reload paused for it", name)
            else:
                self._slow_count[name] = 0
