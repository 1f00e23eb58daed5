"""The Lua API modules (``db``, ``core``, ``http``, ``hooks``, ``request``, ``json``,
``log``), one Python module each.

Each module exposes ``install(vm) -> real_table``: it builds the module's Lua table from
host functions (see :meth:`Sandbox.lua_function`) and, where a function must call plugin
code or needs no host round trip, from trusted Lua glue. :class:`PluginVM` freezes the
result and publishes it as a global. Lua values are converted to Python at this edge
(``convert.from_lua``); ``Any`` does not travel further.
"""
