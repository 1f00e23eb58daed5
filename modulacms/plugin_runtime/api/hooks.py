"""The ``hooks`` module: content lifecycle hook registration (spec §7.1).

``hooks.on(event, table, handler, opts?)`` works only at module scope. Events are the
ten of :class:`modulacms.core.events.HookEvent`; ``table`` is a core table name or
``"*"`` (not for read events); ``opts.priority`` is clamped to 1..1000 (default 100).
Dispatch lives in ``plugin_runtime/hooks.py``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from modulacms.core.events import HookEvent
from modulacms.plugin_runtime.api.args import bad_argument, optional_table, string_arg, type_name
from modulacms.plugin_runtime.convert import lua_type
from modulacms.plugin_runtime.sandbox import HostRaise
from modulacms.plugin_runtime.vm import HookRegistration

if TYPE_CHECKING:
    from modulacms.plugin_runtime.vm import PluginVM

MAX_HOOKS = 50
EVENTS = frozenset(e.value for e in HookEvent)
READ_EVENTS = frozenset({"before_read", "after_read"})


def install(vm: PluginVM) -> Any:
    def on(
        event: Any = None, table: Any = None, handler: Any = None, opts: Any = None, *_: Any
    ) -> None:
        vm.require_phase("on", "hooks.on() must be called at module scope, not inside on_init()")
        name = string_arg(event, 1, "on")
        if name not in EVENTS:
            raise HostRaise(f'invalid hook event "{name}"')
        target = string_arg(table, 2, "on")
        if not target:
            raise HostRaise("table name cannot be empty")
        if target == "*" and name in READ_EVENTS:
            raise HostRaise(
                "wildcard table (*) is not allowed for read hooks (before_read, after_read)"
            )
        if lua_type(handler) != "function":
            raise bad_argument(3, "on", f"function expected, got {type_name(handler)}")
        hooks = vm.registered.hooks
        if len(hooks) >= MAX_HOOKS:
            raise HostRaise(f'plugin "{vm.name}" exceeded maximum hook limit ({MAX_HOOKS})')
        priority = optional_table(opts).get("priority")
        level = 100
        if isinstance(priority, int | float) and not isinstance(priority, bool):
            level = int(min(1000, max(1, priority)))
        hooks.append(HookRegistration(name, target, level, len(hooks), handler))
        return None

    real = vm.sandbox.table()
    real[b"on"] = vm.sandbox.lua_function(on, "hooks.on")
    return real
