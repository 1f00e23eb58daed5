"""The host services API modules call, bundled per plugin manager.

Every field is optional so that a runtime can be built for what is available (the
manifest VM needs none; the test harness swaps the outbound engine for a mock).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from modulacms.plugin_runtime.metrics import MetricsRegistry


@dataclass
class HostServices:
    """``store``: :class:`modulacms.db.plugin_store.PluginStore`; ``core``:
    :class:`modulacms.services.plugin_core.PluginCoreService` (core writes); ``outbound``:
    the outbound request engine; ``access(plugin)``: the plugin's approved core access
    (the manager installs it)."""

    store: Any = None
    core: Any = None
    outbound: Any = None
    metrics: MetricsRegistry = field(default_factory=MetricsRegistry)
    access: Callable[[str], Mapping[str, list[str]]] | None = None
