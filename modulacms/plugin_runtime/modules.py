"""Which Lua API modules a plugin VM gets, in installation order."""

from __future__ import annotations

from modulacms.plugin_runtime.api import core as core_api
from modulacms.plugin_runtime.api import db as db_api
from modulacms.plugin_runtime.api import hooks as hooks_api
from modulacms.plugin_runtime.api import http as http_api
from modulacms.plugin_runtime.api import json as json_api
from modulacms.plugin_runtime.api import log as log_api
from modulacms.plugin_runtime.api import request as request_api
from modulacms.plugin_runtime.api.log import PluginLogger
from modulacms.plugin_runtime.loader import ModuleResolver, PluginSource, read_plugin_file
from modulacms.plugin_runtime.options import RuntimeOptions
from modulacms.plugin_runtime.services import HostServices
from modulacms.plugin_runtime.vm import Installer, PluginContext


def standard_modules() -> tuple[tuple[str, Installer], ...]:
    """The modules of a production VM (spec §1.5 step 2)."""
    return (
        ("db", db_api.install),
        ("log", log_api.install),
        ("http", http_api.install),
        ("hooks", hooks_api.install),
        ("core", core_api.install),
        ("request", request_api.install),
        ("json", json_api.install),
    )


def make_context(
    source: PluginSource,
    options: RuntimeOptions,
    services: HostServices,
    modules: tuple[tuple[str, Installer], ...] | None = None,
) -> PluginContext:
    """Everything the VMs of one plugin instance share (reads ``init.lua`` once)."""
    limits = options.limits
    return PluginContext(
        source=source,
        options=options,
        logger=PluginLogger(
            source.name, max_bytes=options.max_log_bytes, rate=options.log_rate_per_second
        ),
        resolver=ModuleResolver(source.root, source.name, limits.max_source_bytes),
        init_source=read_plugin_file(source.root, "init.lua", limits.max_source_bytes),
        services=services,
        modules=standard_modules() if modules is None else modules,
    )
