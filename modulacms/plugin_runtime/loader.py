"""Finding plugins on disk, reading their code safely, extracting manifests, ordering them.

* :func:`discover` — spec §1.2: the immediate sub-directories of the plugin directory
  (symlinks to directories count), sorted by name; ones without ``init.lua`` are skipped
  silently, ones whose manifest fails are skipped with a recorded problem. Unlike the
  original, ``plugin_info.name`` must equal the directory name (several code paths of
  the original assume it, and it stops one plugin from claiming another's name);
  the first of two equal names wins.
* :func:`extract_manifest` — spec §1.3: ``init.lua`` runs once in a throw-away VM without
  coroutines, with ``require`` and stub API modules, under a 2 s limit.
* :class:`ModuleResolver` — ``require(name)`` reads ``lib/<name>.lua`` only: the name must
  be simple, the real path must stay inside the real ``lib/`` (no symlink or ``..``
  escape), the file must be a regular file of bounded size; it is cached per plugin.
* :func:`dependency_order` — Kahn's algorithm, ties broken alphabetically.
"""

from __future__ import annotations

import heapq
import logging
import os
import stat
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from modulacms.errors import PluginLoadError
from modulacms.plugin_runtime.manifest import Manifest, ManifestError, parse_manifest
from modulacms.plugin_runtime.options import SandboxLimits
from modulacms.plugin_runtime.sandbox import HostRaise, Sandbox

log = logging.getLogger(__name__)

API_MODULES = ("db", "log", "http", "hooks", "core", "request", "json")

_STUBS = """
local K, names = ...
local function nothing() end
local stub = { __index = function() return nothing end, __newindex = function() end }
for i = 1, #names do K.set_global(names[i], setmetatable({}, stub)) end
"""


@dataclass(frozen=True, slots=True)
class PluginSource:
    """A discovered plugin: where it lives and its validated manifest."""

    directory: Path
    root: Path
    manifest: Manifest

    @property
    def name(self) -> str:
        return self.manifest.name


@dataclass
class Discovery:
    """Result of :func:`discover`: loadable plugins plus what was skipped and why."""

    plugins: list[PluginSource] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)


def _inside(path: str, root: str) -> bool:
    return os.path.commonpath([path, root]) == root


def read_plugin_file(root: Path, relative: str, max_bytes: int) -> bytes:
    """Read ``root/relative`` when its real path stays inside ``root`` and it is a
    regular file of at most ``max_bytes``; raises ``FileNotFoundError`` / ``PermissionError``."""
    real_root = os.path.realpath(root)
    real = os.path.realpath(os.path.join(real_root, relative))
    if not _inside(real, real_root):
        raise PermissionError(f"{relative} resolves outside the plugin directory")
    st = os.stat(real)
    if not stat.S_ISREG(st.st_mode):
        raise PermissionError(f"{relative} is not a regular file")
    if st.st_size > max_bytes:
        raise PermissionError(f"{relative} is larger than {max_bytes} bytes")
    with open(real, "rb") as fh:
        return fh.read(max_bytes + 1)[:max_bytes]


class ModuleResolver:
    """``require`` for one plugin: ``lib/<name>.lua`` only, cached per plugin."""

    def __init__(self, root: Path, plugin: str, max_bytes: int) -> None:
        self.root = root
        self.plugin = plugin
        self.max_bytes = max_bytes
        self._cache: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def __call__(self, name: str) -> tuple[bytes, str]:
        if not name or any(bad in name for bad in ("..", "/", "\\", "\0")):
            raise HostRaise(f'invalid module name "{name}": must be a simple name, not a path')
        relative = f"lib/{name}.lua"
        chunk = f"{self.plugin}/{relative}"
        with self._lock:
            cached = self._cache.get(name)
        if cached is not None:
            return cached, chunk
        lib = self.root / "lib"
        real_lib = os.path.realpath(lib)
        candidate = os.path.realpath(lib / f"{name}.lua")
        if not _inside(candidate, real_lib) or not _inside(real_lib, os.path.realpath(self.root)):
            raise HostRaise(f'module "{name}" resolves outside lib/ (refused)')
        try:
            source = read_plugin_file(self.root, relative, self.max_bytes)
        except FileNotFoundError:
            raise HostRaise(f'module "{name}" not found at {chunk}') from None
        except (PermissionError, OSError) as exc:
            raise HostRaise(f'error loading module "{name}": {exc}') from None
        with self._lock:
            self._cache[name] = source
        return source, chunk


def plugin_root(directory: Path) -> Path:
    return Path(os.path.realpath(directory))


def extract_manifest(
    directory: Path, *, limits: SandboxLimits | None = None, timeout: float = 2.0
) -> Manifest:
    """Run ``init.lua`` in a throw-away VM and validate ``plugin_info`` (spec §1.3)."""
    limits = limits or SandboxLimits()
    root = plugin_root(directory)
    label = f"{directory.name}/init.lua"
    try:
        source = read_plugin_file(root, "init.lua", limits.max_source_bytes)
    except FileNotFoundError:
        raise ManifestError(label, "init.lua", "init.lua not found") from None
    except (PermissionError, OSError) as exc:
        raise ManifestError(label, "init.lua", f"cannot read init.lua: {exc}") from None
    sandbox = Sandbox(
        name=directory.name,
        limits=limits,
        coroutines=False,
        source_loader=ModuleResolver(root, directory.name, limits.max_source_bytes),
    )
    try:
        sandbox.trusted(_STUBS, list(API_MODULES))
        try:
            fn = sandbox.compile(source, label)
        except PluginLoadError as exc:
            raise ManifestError(label, "syntax", f"Lua syntax error: {exc.message}") from None
        result = sandbox.call(fn, timeout=timeout)
        if not result.ok:
            raise ManifestError(label, "init.lua", f"executing init.lua: {result.message}")
        raw = sandbox.export(sandbox.get_global("plugin_info"))
        has_on_init = sandbox.global_type("on_init") == "function"
        return parse_manifest(raw, path=label, has_on_init=has_on_init)
    finally:
        sandbox.close()


def discover(
    plugin_dir: Path, *, limits: SandboxLimits | None = None, timeout: float = 2.0
) -> Discovery:
    """Find and validate every plugin under ``plugin_dir`` (spec §1.2 steps 1–3)."""
    found = Discovery()
    if not plugin_dir.is_dir():
        return found
    seen: set[str] = set()
    for entry in sorted(plugin_dir.iterdir(), key=lambda p: p.name):
        if not entry.is_dir() or not (entry / "init.lua").exists():
            continue
        try:
            manifest = extract_manifest(entry, limits=limits, timeout=timeout)
        except PluginLoadError as exc:
            log.warning("skipping plugin directory %s: %s", entry.name, exc.message)
            found.problems.append((entry.name, exc.message))
            continue
        if manifest.name != entry.name:
            problem = f'plugin_info.name "{manifest.name}" must equal its directory name'
            log.warning("skipping plugin directory %s: %s", entry.name, problem)
            found.problems.append((entry.name, problem))
            continue
        if manifest.name in seen:
            problem = f'duplicate plugin name "{manifest.name}"'
            log.warning("skipping plugin directory %s: %s", entry.name, problem)
            found.problems.append((entry.name, problem))
            continue
        seen.add(manifest.name)
        found.plugins.append(PluginSource(entry, plugin_root(entry), manifest))
    return found


def dependency_order(plugins: Sequence[PluginSource]) -> list[PluginSource]:
    """Plugins in load order; raises when a dependency is missing or forms a cycle."""
    by_name = {p.name: p for p in plugins}
    for plugin in sorted(plugins, key=lambda p: p.name):
        for dep in plugin.manifest.dependencies:
            if dep not in by_name:
                raise PluginLoadError(
                    f'plugin "{plugin.name}" depends on "{dep}" which was not discovered'
                )
    waiting = {p.name: set(p.manifest.dependencies) for p in plugins}
    users: dict[str, list[str]] = {p.name: [] for p in plugins}
    for name, deps in waiting.items():
        for dep in deps:
            users[dep].append(name)
    ready = [name for name, deps in waiting.items() if not deps]
    heapq.heapify(ready)
    order: list[PluginSource] = []
    while ready:
        name = heapq.heappop(ready)
        order.append(by_name[name])
        for user in users[name]:
            waiting[user].discard(name)
            if not waiting[user]:
                heapq.heappush(ready, user)
    if len(order) != len(plugins):
        stuck = sorted(set(by_name) - {p.name for p in order})
        raise PluginLoadError("circular dependency detected among plugins: " + ", ".join(stuck))
    return order


def names(plugins: Iterable[PluginSource]) -> list[str]:
    return [p.name for p in plugins]
