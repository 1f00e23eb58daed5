"""Helpers for plugin runtime tests: fixture plugins under tests/data/plugins."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from modulacms.plugin_runtime.convert import from_lua
from modulacms.plugin_runtime.loader import PluginSource, extract_manifest, plugin_root
from modulacms.plugin_runtime.modules import make_context
from modulacms.plugin_runtime.options import RuntimeOptions
from modulacms.plugin_runtime.sandbox import ExecResult
from modulacms.plugin_runtime.services import HostServices
from modulacms.plugin_runtime.vm import Phase, PluginVM

PLUGINS = Path(__file__).resolve().parents[2] / "data" / "plugins"


def fixture_source(name: str, directory: Path | None = None) -> PluginSource:
    path = (directory or PLUGINS) / name
    return PluginSource(path, plugin_root(path), extract_manifest(path))


def make_vm(
    name: str,
    *,
    options: RuntimeOptions | None = None,
    services: HostServices | None = None,
    directory: Path | None = None,
) -> PluginVM:
    """A VM of fixture plugin ``name`` with module scope run and phase ``runtime``."""
    ctx = make_context(
        fixture_source(name, directory), options or RuntimeOptions(), services or HostServices()
    )
    vm = PluginVM(ctx)
    result = vm.load(2.0)
    assert result.ok, result.message
    vm.phase = Phase.RUNTIME
    vm.snapshot_globals()
    return vm


def call(vm: PluginVM, function: str, *args: Any, timeout: float = 1.0) -> ExecResult:
    result = vm.execute(vm.sandbox.get_global(function), *args, timeout=timeout)
    vm.release()
    return result


def values(result: ExecResult) -> list[Any]:
    assert result.ok, result.message
    return [from_lua(v) for v in result.values]


def run_in(instance: Any, source: str, *, timeout: float = 2.0, ops: int | None = None) -> Any:
    """Run Lua ``source`` on one VM of a loaded plugin instance; returns an ExecResult."""
    pool = instance.pool
    assert pool is not None
    with pool.lease() as vm:
        fn = vm.sandbox.compile(source.encode(), f"{instance.name}/inline.lua")
        return vm.execute(fn, timeout=timeout, ops=ops)


def call_global(instance: Any, name: str, *args: Any, timeout: float = 2.0) -> Any:
    pool = instance.pool
    assert pool is not None
    with pool.lease() as vm:
        return vm.execute(vm.sandbox.get_global(name), *args, timeout=timeout)
