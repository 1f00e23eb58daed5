"""The ``http`` module: route and middleware registration (spec §6.1).

``http.handle(method, path, handler, opts?)`` and ``http.use(fn)`` work only at module
scope; they record the handler (a Lua function of this VM) in the VM's registrations.
Serving requests is the bridge's job (``plugin_runtime/bridge.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from modulacms.plugin_runtime.api.args import bad_argument, optional_table, string_arg, type_name
from modulacms.plugin_runtime.convert import lua_type
from modulacms.plugin_runtime.routes import RouteError, check_method, check_path
from modulacms.plugin_runtime.sandbox import HostRaise
from modulacms.plugin_runtime.vm import RouteRegistration

if TYPE_CHECKING:
    from modulacms.plugin_runtime.vm import PluginVM


def install(vm: PluginVM) -> Any:
    max_routes = vm.ctx.options.max_routes

    def handle(
        method: Any = None, path: Any = None, handler: Any = None, opts: Any = None, *_: Any
    ) -> None:
        vm.require_phase(
            "handle", "http.handle() must be called at module scope, not inside on_init()"
        )
        verb = string_arg(method, 1, "handle")
        route = string_arg(path, 2, "handle")
        try:
            check_method(verb)
            check_path(route)
        except RouteError as exc:
            raise HostRaise(str(exc)) from None
        if lua_type(handler) != "function":
            raise bad_argument(3, "handle", f"function expected, got {type_name(handler)}")
        key = f"{verb} {route}"
        routes = vm.registered.routes
        if key in routes:
            raise HostRaise(f"duplicate route: {key} already registered")
        if len(routes) >= max_routes:
            raise HostRaise(f"plugin exceeded maximum route limit ({max_routes})")
        public = optional_table(opts).get("public") is True
        routes[key] = RouteRegistration(verb, route, public, handler)
        return None

    def use(fn: Any = None, *_: Any) -> None:
        vm.require_phase("use", "http.use() must be called at module scope, not inside on_init()")
        if lua_type(fn) != "function":
            raise bad_argument(1, "use", f"function expected, got {type_name(fn)}")
        vm.registered.middleware.append(fn)
        return None

    real = vm.sandbox.table()
    real[b"handle"] = vm.sandbox.lua_function(handle, "http.handle")
    real[b"use"] = vm.sandbox.lua_function(use, "http.use")
    return real
