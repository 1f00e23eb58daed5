"""Tunables of the plugin runtime, passed in explicitly by the composition root.

Defaults follow the plugin spec (section 15) plus the limits the original lacks (per-VM
memory, instruction budget). ``RuntimeOptions.from_settings`` maps the ``[plugins]``
section of :class:`modulacms.config.Settings`; tests build options directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class SandboxLimits:
    """Limits of one Lua VM.

    ``memory_limit`` is what plugin code may allocate; the host keeps ``memory_headroom``
    above it for its own pushes (arguments, query rows), so the host never hits the
    allocator limit itself. ``instruction_limit`` counts Lua VM instructions per
    execution (one checkout); ``hook_interval`` is how often the count hook runs.
    """

    memory_limit: int = 32 * MIB
    memory_headroom: int = 8 * MIB
    instruction_limit: int = 1_000_000_000
    hook_interval: int = 1000
    short_hook_interval: int = 100
    big_heap_bytes: int = 4 * MIB
    max_depth: int = 32
    max_nodes: int = 100_000
    pattern_budget: float = 5e7
    find_budget: float = 4e9
    heavy_step: int = 2_000_000
    recycle_ratio: float = 0.9
    max_source_bytes: int = 1 * MIB

    @property
    def max_string(self) -> int:
        return self.memory_limit


@dataclass(frozen=True, slots=True)
class RuntimeOptions:
    """Everything the plugin manager, pools, hooks and bridge need to know."""

    max_vms: int = 4
    hook_reserve_vms: int = 1
    timeout: float = 5.0
    max_ops: int = 1000
    hook_max_ops: int = 100
    hook_timeout_ms: int = 2000
    hook_event_timeout_ms: int = 5000
    hook_max_consecutive_aborts: int = 10
    hook_max_concurrent_after: int = 10
    max_failures: int = 5
    reset_interval: float = 60.0
    max_request_body: int = 1 * MIB
    max_response_body: int = 5 * MIB
    rate_limit: int = 100
    max_routes: int = 50
    hot_reload: bool = False
    sync_interval: float = 1.0
    request_timeout: float = 10.0
    request_max_body: int = 1 * MIB
    request_max_response: int = 1 * MIB
    request_rate_limit: int = 60
    request_global_rate: int = 0
    request_cb_failures: int = 5
    request_cb_reset: float = 60.0
    request_allow_local: bool = False
    manifest_timeout: float = 2.0
    shutdown_timeout: float = 10.0
    checkout_timeout: float = 0.1
    drain_timeout: float = 10.0
    max_log_bytes: int = 4096
    log_rate_per_second: float = 100.0
    limits: SandboxLimits = field(default_factory=SandboxLimits)

    @property
    def reserved_vms(self) -> int:
        """Reserved (hook-only) VMs: at least 1, forced into ``0..max_vms-1`` (spec §10.1)."""
        if self.max_vms <= 1:
            return 0
        return min(max(self.hook_reserve_vms, 1), self.max_vms - 1)

    @classmethod
    def from_settings(cls, settings: Any) -> RuntimeOptions:
        """Build options from a ``Settings`` object (fields ``plugins_*``)."""

        def get(name: str, default: Any) -> Any:
            return getattr(settings, f"plugins_{name}", default)

        base = cls()
        limits = replace(
            base.limits,
            memory_limit=int(get("max_memory_mb", 32)) * MIB,
            instruction_limit=int(get("instruction_budget", base.limits.instruction_limit)),
        )
        values = {
            f.name: get(f.name, getattr(base, f.name))
            for f in cls.__dataclass_fields__.values()
            if f.name != "limits"
        }
        return cls(**values, limits=limits)
