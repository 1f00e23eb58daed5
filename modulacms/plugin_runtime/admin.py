"""Plugin administration against the project database, with or without a server.

The CLI (``modulacms plugin ...``) and the admin HTTP endpoints both use
:class:`PluginAdmin`. Everything it changes lives in the database (``plugins``,
``plugin_routes``, ``plugin_hooks``, ``plugin_requests``); a running server's
:class:`~modulacms.plugin_runtime.runtime.Coordinator` applies the change within one
sync interval. ``reload`` stamps the plugin's ``date_modified``, which a running server
takes as a reload request.

Approving needs the plugin's rows to exist. :meth:`PluginAdmin.sync` creates them by
loading the plugin once in a short-lived runtime (the same load the server performs: its
``on_init`` runs), so ``approve`` works on a project whose server never ran.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from modulacms.db.connection import Database
from modulacms.db.plugin_store import PluginStore
from modulacms.db.repositories.pipelines import Pipeline, PipelineRepository
from modulacms.db.repositories.plugin_tables import PluginTables, Refusal
from modulacms.errors import BadRequest, NotFound, PluginLoadError, ValidationFailed
from modulacms.plugin_runtime.approvals import ApprovalSnapshot, ApprovalStore, HookRow, RouteRow
from modulacms.plugin_runtime.loader import discover, extract_manifest
from modulacms.plugin_runtime.manager import PluginManager
from modulacms.plugin_runtime.manifest import Capability, Manifest, ManifestError
from modulacms.plugin_runtime.options import RuntimeOptions
from modulacms.plugin_runtime.sandbox import Sandbox
from modulacms.plugin_runtime.services import HostServices

log = logging.getLogger(__name__)

HOOK_EVENTS = (
    "before_create after_create before_update after_update before_delete after_delete "
    "before_publish after_publish before_read after_read"
).split()


@dataclass
class Validation:
    """What ``validate`` found: errors and warnings as ``(field, message)``."""

    manifest: Manifest | None = None
    errors: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def validate_plugin(path: Path, options: RuntimeOptions | None = None) -> Validation:
    """Spec §13 ``validate``: directory, ``init.lua``, syntax, manifest, warnings."""
    options = options or RuntimeOptions()
    result = Validation()
    if not path.is_dir():
        result.errors.append(("path", f"{path} is not a directory"))
        return result
    init = path / "init.lua"
    if not init.is_file():
        result.errors.append(("init.lua", "init.lua not found"))
        return result
    sandbox = Sandbox(name=path.name, limits=options.limits, coroutines=False)
    try:
        sandbox.compile(init.read_bytes(), f"{path.name}/init.lua")
    except PluginLoadError as exc:
        result.errors.append(("syntax", f"Lua syntax error: {exc.message}"))
        return result
    finally:
        sandbox.close()
    try:
        manifest = extract_manifest(path, limits=options.limits, timeout=options.manifest_timeout)
    except ManifestError as exc:
        result.errors.append(("manifest", exc.reason))
        return result
    result.manifest = manifest
    if manifest.name != path.name:
        result.errors.append(
            ("name", f'plugin_info.name "{manifest.name}" must equal the directory name')
        )
    if not manifest.author:
        result.warnings.append(("author", "author is empty"))
    if not manifest.license:
        result.warnings.append(("license", "license is empty"))
    if not manifest.has_on_init:
        result.warnings.append(("on_init", "no on_init function defined"))
    return result


def parse_route(text: str) -> tuple[str, str]:
    """``"GET /products"`` → ``("GET", "/products")`` (method upper-cased)."""
    method, _, path = text.strip().partition(" ")
    if not method or not path.strip():
        raise ValidationFailed(f'route must look like "GET /path", got "{text}"')
    return method.upper(), path.strip()


def parse_hook(text: str) -> tuple[str, str]:
    """``"before_create:content_data"`` → ``("before_create", "content_data")``."""
    event, _, table = text.partition(":")
    if event not in HOOK_EVENTS or not table:
        raise ValidationFailed(f'hook must look like "event:table", got "{text}"')
    return event, table


class PluginAdmin:
    """Offline-capable plugin management for one project."""

    def __init__(
        self,
        plugin_dir: Path,
        db: Database,
        services: Any = None,
        options: RuntimeOptions | None = None,
    ) -> None:
        self.plugin_dir = Path(plugin_dir)
        self.db = db
        self.services = services
        self.options = options or RuntimeOptions()
        self.approvals = ApprovalStore(db)
        self.pipes = PipelineRepository(db)

    # -- reading ------------------------------------------------------------------------

    def plugins(self) -> list[tuple[str, Manifest | None, str]]:
        """Every real sub-directory with ``init.lua``: ``(dirname, manifest, problem)``."""
        out: list[tuple[str, Manifest | None, str]] = []
        if not self.plugin_dir.is_dir():
            return out
        for entry in sorted(self.plugin_dir.iterdir(), key=lambda p: p.name):
            if entry.is_symlink() or not entry.is_dir() or not (entry / "init.lua").exists():
                continue
            check = validate_plugin(entry, self.options)
            problem = "; ".join(m for _, m in check.errors)
            out.append((entry.name, check.manifest if check.ok else None, problem))
        return out

    def manifest(self, name: str) -> Manifest:
        path = self.plugin_dir / name
        if not (path / "init.lua").is_file():
            raise NotFound("plugin", name, f"plugin not found: {name}")
        return extract_manifest(path, limits=self.options.limits)

    def info(self, name: str) -> dict[str, Any]:
        manifest = self.manifest(name)
        data: dict[str, Any] = {
            "name": manifest.name,
            "version": manifest.version,
            "description": manifest.description,
            "author": manifest.author,
            "license": manifest.license,
            "status": self.approvals.status(name) or "not registered",
            "breaker_state": None,
            "breaker_since": None,
            "last_error": None,
            "last_error_at": None,
            "dependencies": list(manifest.dependencies),
            "core_access": manifest.core_access_map,
            "routes": [_route(r) for r in self.approvals.routes(name)],
            "hooks": [_hook(h) for h in self.approvals.hooks(name)],
            "domains": [
                {"domain": d.domain, "description": d.description, "approved": d.approved}
                for d in self.approvals.domains(name)
            ],
        }
        recorded = self.approvals.health().get(name)
        if recorded is not None:
            data |= {
                "breaker_state": recorded.breaker_state,
                "breaker_since": recorded.breaker_since,
                "last_error": recorded.last_error,
                "last_error_at": recorded.last_error_at,
            }
        return data

    def routes(self, name: str) -> list[RouteRow]:
        return self.approvals.routes(name)

    def hooks(self, name: str) -> list[HookRow]:
        return self.approvals.hooks(name)

    # -- syncing rows -------------------------------------------------------------------

    def sync(self, name: str) -> None:
        """Load the plugin once (in a private copy of the plugin directory) so its
        ``plugins`` row and route/hook/domain rows exist and are current."""
        manifest = self.manifest(name)
        self.approvals.register_plugin(
            name,
            manifest.version,
            manifest.description,
            manifest.author,
            manifest.core_access_map,
        )
        with tempfile.TemporaryDirectory(prefix="modulacms-plugin-") as tmp:
            root = Path(tmp) / "plugins"
            root.mkdir()
            for dep in (*manifest.dependencies, name):
                source = self.plugin_dir / dep
                if source.is_dir():
                    shutil.copytree(source, root / dep, symlinks=True)
            manager = PluginManager(
                root,
                RuntimeOptions(max_vms=1, timeout=self.options.timeout),
                HostServices(
                    store=PluginStore(self.db),
                    core=getattr(self.services, "plugin_core", None),
                ),
                _NoPrune(self.approvals),
            )
            try:
                manager.load_all()
                instance = manager.instance(name)
                if instance is None or not instance.running:
                    reason = instance.failed_reason if instance else "not loaded"
                    raise PluginLoadError(f'plugin "{name}" failed to load: {reason}')
            finally:
                manager.shutdown()

    # -- changing -----------------------------------------------------------------------

    def _known(self, name: str) -> None:
        if self.approvals.status(name) is None:
            self.sync(name)

    def approve_route(self, name: str, route: str, actor: str, approved: bool = True) -> int:
        self._known(name)
        method, path = parse_route(route)
        if not self.approvals.set_route(name, method, path, approved, actor):
            self.sync(name)
            if not self.approvals.set_route(name, method, path, approved, actor):
                raise NotFound(
                    "route",
                    f"{method} {path}",
                    f'route {method} {path} not found for plugin "{name}"',
                )
        return 1

    def pending_routes(self, name: str, approved: bool) -> list[RouteRow]:
        """Routes whose approval is the opposite of ``approved`` (after a sync)."""
        self.sync(name)
        return [r for r in self.approvals.routes(name) if r.approved != approved]

    def pending_hooks(self, name: str, approved: bool) -> list[HookRow]:
        self.sync(name)
        return [h for h in self.approvals.hooks(name) if h.approved != approved]

    def set_routes(self, name: str, rows: list[RouteRow], approved: bool, actor: str) -> int:
        for row in rows:
            self.approvals.set_route(name, row.method, row.path, approved, actor)
        return len(rows)

    def approve_hook(self, name: str, hook: str, actor: str, approved: bool = True) -> int:
        self._known(name)
        event, table = parse_hook(hook)
        return self.approvals.set_hook(name, event, table, approved, actor) or 1

    def set_hooks(self, name: str, rows: list[HookRow], approved: bool, actor: str) -> int:
        for row in rows:
            self.approvals.set_hook(name, row.event, row.table, approved, actor)
        return len(rows)

    def approve_domain(self, name: str, domain: str, actor: str, approved: bool = True) -> int:
        self._known(name)
        return self.approvals.set_domain(name, domain, approved, actor)

    def set_enabled(self, name: str, enabled: bool) -> None:
        # a registered plugin can be disabled even when its code no longer loads
        if enabled or self.approvals.status(name) is None:
            self.manifest(name)
            self._known(name)
        self.approvals.set_status(name, "enabled" if enabled else "disabled")

    def request_reload(self, name: str) -> None:
        """Validate, refresh the rows and ask a running server to reload the plugin."""
        self.sync(name)
        self.approvals.touch(name)

    # -- install, capabilities and the pipeline registry (spec §1.2, §9.5, §13) ----------

    def checked_manifest(self, name: str) -> Manifest:
        """The manifest of ``<plugin_dir>/<name>`` after the full ``validate`` checks;
        raises ``NotFound`` (no such plugin) or ``ValidationFailed`` (invalid)."""
        path = self.plugin_dir / name
        if not (path / "init.lua").is_file():
            raise NotFound("plugin", name, f"plugin not found: {name}")
        check = validate_plugin(path, self.options)
        if not check.ok or check.manifest is None:
            problems = "; ".join(f"[{f}] {m}" for f, m in check.errors)
            raise ValidationFailed(f'plugin "{name}" is not valid: {problems}')
        return check.manifest

    def install(self, name: str) -> InstallResult:
        """Create the ``plugins`` row (status ``installed``, approved access = the
        manifest's ``core_access``) and the plugin's pipelines. Idempotent: an installed
        plugin is left alone; one the server auto-registered before its capabilities were
        recorded gets them now."""
        manifest = self.checked_manifest(name)
        before = self.approvals.status(name)
        with self.db.transaction():
            self._register(manifest)
            recorded = self._stored_hash(name) == ""
            count = self._record(manifest) if recorded else 0
        status = self.approvals.status(name) or "installed"
        if before is None:
            message = f'plugin "{name}" v{manifest.version} installed ({count} capabilities).'
        elif recorded:
            message = (
                f'plugin "{name}" was already registered (status {status}); '
                f"its {count} capabilities are now recorded."
            )
        else:
            message = f'plugin "{name}" is already installed (status {status}); nothing changed.'
        return InstallResult(name, manifest.version, before is None, status, count, message)

    def sync_capabilities(self, name: str) -> CapabilitySync:
        """Rewrite the plugin's pipelines and manifest hash from the manifest on disk
        (registering the plugin first when it has no row yet)."""
        manifest = self.checked_manifest(name)
        old = {_entry_key(p) for p in self.pipes.entries(name)}
        with self.db.transaction():
            self._register(manifest)
            count = self._record(manifest)
        new = {_entry_key(p) for p in self.pipes.entries(name)}
        return CapabilitySync(
            name,
            manifest.version,
            count,
            tuple(sorted(new - old)),
            tuple(sorted(old - new)),
            manifest_hash(manifest),
        )

    def auto_register(self, manifests: Iterable[Manifest]) -> list[str]:
        """Spec §1.2 step 4 for discovered plugins: register unknown ones and record the
        capabilities of any whose capabilities were never recorded; returns those names."""
        recorded = []
        for manifest in manifests:
            with self.db.transaction():
                self._register(manifest)
                if self._stored_hash(manifest.name) == "":
                    self._record(manifest)
                    recorded.append(manifest.name)
        return recorded

    def capability_drift(self, manifest: Manifest) -> dict[str, Any]:
        """How the stored registry and manifest hash differ from ``manifest`` (a
        running plugin's); informational, as in the original."""
        stored = {_entry_key(p) for p in self.pipes.entries(manifest.name)}
        wanted = {f"{c.table}.{c.op}:{c.handler}" for c in usable_capabilities(manifest)}
        stored_hash = self._stored_hash(manifest.name)
        return {
            "capability_drift": {
                "added": sorted(wanted - stored),
                "removed": sorted(stored - wanted),
            },
            "manifest_drift": bool(stored_hash) and stored_hash != manifest_hash(manifest),
        }

    def pipelines(self) -> list[Pipeline]:
        """Every registry entry, grouped by ``<table>.<op>`` in chain order."""
        return self.pipes.entries()

    def pipelines_dry_run(self, table: str, op: str) -> DryRun:
        """The chain ``<table>.<op>`` would run, without running anything: entries of
        disabled or failed plugins are listed as skipped."""
        if not table or not op:
            raise BadRequest('"table" and "op" are required')
        status = self.approvals.known_plugins()
        chain: list[Pipeline] = []
        skipped: list[tuple[Pipeline, str]] = []
        for entry in self.pipes.chain(table, op):
            state = status.get(entry.plugin, "")
            if state in ("disabled", "failed"):
                skipped.append((entry, f"plugin {state}"))
            else:
                chain.append(entry)
        return DryRun(table, op, chain, skipped)

    # -- orphaned plugin tables ---------------------------------------------------------

    def known_plugins(self) -> set[str]:
        """Plugins whose tables are never orphaned: every directory of the plugin
        directory holding an ``init.lua`` (by directory name, and by ``plugin_info.name``
        when it can be read), valid or not, so a plugin that is broken mid-edit keeps its
        data."""
        known: set[str] = set()
        if not self.plugin_dir.is_dir():
            return known
        for entry in self.plugin_dir.iterdir():
            if not entry.is_dir() or not (entry / "init.lua").is_file():
                continue
            known.add(entry.name)
            try:
                known.add(extract_manifest(entry, limits=self.options.limits).name)
            except PluginLoadError:
                pass
        return known

    def orphaned_tables(self) -> list[str]:
        """``plugin_`` tables that no known plugin owns (core tables excluded)."""
        return PluginTables(self.db).orphans(self.known_plugins())

    def drop_orphaned_tables(self, tables: Sequence[str]) -> tuple[list[str], list[Refusal]]:
        """Drop those of ``tables`` that are still orphaned when re-checked; returns
        ``(dropped, refused)``. Refuses to run without a plugin directory, where every
        plugin table would look orphaned."""
        if not self.plugin_dir.is_dir():
            raise BadRequest(
                f"plugin directory {self.plugin_dir} does not exist; refusing to drop tables "
                "(every plugin table would look orphaned)"
            )
        dropped, refused = PluginTables(self.db).drop_orphans(tables, self.known_plugins())
        for table in dropped:
            log.warning("dropped orphaned plugin table %s", table)
        return dropped, refused

    def _register(self, manifest: Manifest) -> None:
        self.approvals.register_plugin(
            manifest.name,
            manifest.version,
            manifest.description,
            manifest.author,
            manifest.core_access_map,
        )

    def _stored_hash(self, name: str) -> str:
        return self.approvals.manifest_hash(name)

    def _record(self, manifest: Manifest) -> int:
        """Store the capabilities and the manifest hash (inside the caller's transaction)."""
        count = self.pipes.replace(manifest.name, manifest.version, usable_capabilities(manifest))
        self.approvals.set_manifest_hash(manifest.name, manifest_hash(manifest))
        return count


@dataclass(frozen=True, slots=True)
class InstallResult:
    """What :meth:`PluginAdmin.install` did; ``installed`` is False when the plugin
    already had a row."""

    name: str
    version: str
    installed: bool
    status: str
    capabilities: int
    message: str


@dataclass(frozen=True, slots=True)
class CapabilitySync:
    """What :meth:`PluginAdmin.sync_capabilities` changed (entries as
    ``<table>.<op>:<handler>``)."""

    name: str
    version: str
    count: int
    added: tuple[str, ...]
    removed: tuple[str, ...]
    manifest_hash: str


@dataclass(frozen=True, slots=True)
class DryRun:
    """The chain of one registry key, and the entries that would not run."""

    table: str
    op: str
    chain: list[Pipeline]
    skipped: list[tuple[Pipeline, str]]


def usable_capabilities(manifest: Manifest) -> list[Capability]:
    """The manifest's capabilities that name a table, an operation and a handler (the
    others cannot be keyed, so they are left out of the registry)."""
    usable = []
    for capability in manifest.capabilities:
        if capability.table and capability.op and capability.handler:
            usable.append(capability)
        else:
            log.warning("plugin %s: capability without table, op or handler ignored", manifest.name)
    return usable


def manifest_hash(manifest: Manifest) -> str:
    """SHA-256 of the manifest's canonical JSON (the fields, not the file's bytes, so
    reformatting ``init.lua`` is not drift)."""
    text = json.dumps(asdict(manifest), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _entry_key(entry: Pipeline) -> str:
    return f"{entry.key}:{entry.handler}"


class _NoPrune:
    """An approval backend that never deletes other plugins' rows (``sync`` loads one
    plugin; the real server prunes at start-up)."""

    def __init__(self, store: ApprovalStore) -> None:
        self._store = store

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def prune(self, plugins: Any) -> None:
        return None

    def snapshot(self) -> ApprovalSnapshot:
        # sync loads a disabled plugin too: its rows must exist to be approved
        return replace(self._store.snapshot(), status={})


def _route(r: RouteRow) -> dict[str, Any]:
    return {"method": r.method, "path": r.path, "public": r.public, "approved": r.approved}


def _hook(h: HookRow) -> dict[str, Any]:
    return {
        "event": h.event,
        "table": h.table,
        "priority": h.priority,
        "approved": h.approved,
        "is_wildcard": h.is_wildcard,
    }


def discovered_names(plugin_dir: Path) -> list[str]:
    return [p.name for p in discover(plugin_dir).plugins]
