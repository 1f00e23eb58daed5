"""The ``core`` module: gated access to CMS tables (spec §5).

Reads run on :class:`PluginStore` (``core_query`` ...), behind three gates: the table's
whitelist entry, its read/write policy and the plugin's approved access
(``plugins.approved_access``). Writes are carried out by
:class:`modulacms.services.plugin_core.PluginCoreService` through the content and media
services (validation, tree invariants, audit rows), never by raw SQL; ``update`` and
``delete`` first resolve their ``where`` to at most 100 rows. A plugin's own core writes
made while one of its hooks runs do not fire hooks again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from modulacms.db.query import check_core_access
from modulacms.errors import QueryRejected
from modulacms.plugin_runtime.api.args import bad_argument, type_name
from modulacms.plugin_runtime.api.db import outcome
from modulacms.plugin_runtime.convert import LuaValue, from_lua
from modulacms.plugin_runtime.hooks import core_writes
from modulacms.plugin_runtime.sandbox import HostRaise

if TYPE_CHECKING:
    from modulacms.plugin_runtime.vm import PluginVM

MAX_ROWS = 100


def _table(value: Any, function: str) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    got = "no value" if value is None else type_name(value)
    raise bad_argument(1, function, f"string expected, got {got}")


def _filter(opts: LuaValue, op: str) -> dict[str, LuaValue]:
    if not isinstance(opts, dict):
        raise HostRaise(f"core.{op} requires an options table")
    where, where_or = opts.get("where"), opts.get("where_or")
    if not where and not where_or:
        raise HostRaise(
            f"core.{op} requires non-empty where or where_or (safety: prevents full-table {op})"
        )
    return {k: v for k, v in (("where", where), ("where_or", where_or)) if v}


def install(vm: PluginVM) -> Any:
    sandbox = vm.sandbox
    plugin = vm.name
    services = vm.ctx.services

    def access() -> Mapping[str, list[str]]:
        lookup = services.access
        return lookup(plugin) if lookup is not None else {}

    def store() -> Any:
        if services.store is None:
            raise HostRaise("core is not available: no database is configured")
        return services.store

    def writer() -> Any:
        if services.core is None:
            raise HostRaise("core writes are not available in this runtime")
        return services.core

    def read(name: str, method: str) -> Any:
        def call(table: Any = None, opts: Any = None, *_: Any) -> tuple[Any, ...]:
            short = _table(table, name)
            vm.charge()
            options = from_lua(opts) if opts is not None else None
            return outcome(
                vm,
                lambda: getattr(store(), method)(plugin, access(), short, options),
                returns=True,
            )

        return call

    def readable(table: str) -> dict[str, list[str]]:
        granted = {k: list(v) for k, v in access().items()}
        granted[table] = sorted({*granted.get(table, []), "read"})
        return granted

    def matching_rows(table: str, filt: dict[str, LuaValue], op: str) -> list[dict[str, Any]]:
        check_core_access(plugin, access(), table, "write")
        keys = list(writer().key_columns(table))
        count = store().core_count(plugin, readable(table), table, {"where": filt.get("where")})
        if count > MAX_ROWS:
            raise QueryRejected(
                f"core.{op}: would affect {count} rows, exceeding safety limit of {MAX_ROWS}"
            )
        rows = store().core_query(
            plugin, readable(table), table, {**filt, "columns": keys, "limit": MAX_ROWS + 1}
        )
        if len(rows) > MAX_ROWS:
            raise QueryRejected(
                f"core.{op}: would affect {len(rows)} rows, exceeding safety limit of {MAX_ROWS}"
            )
        return list(rows)

    def insert(table: Any = None, values: Any = None, *_: Any) -> tuple[Any, ...]:
        short = _table(table, "insert")
        vm.charge()
        data = from_lua(values)
        if not isinstance(data, dict):
            raise bad_argument(2, "insert", f"table expected, got {type_name(values)}")

        def run() -> None:
            check_core_access(plugin, access(), short, "write")
            with core_writes(plugin):
                writer().insert(plugin, short, data)

        return outcome(vm, run, returns=False)

    def update(table: Any = None, opts: Any = None, *_: Any) -> tuple[Any, ...]:
        short = _table(table, "update")
        vm.charge()
        options = from_lua(opts)
        if not isinstance(options, dict) or not isinstance(options.get("set"), dict):
            raise HostRaise("core.update requires a 'set' table")
        values = options["set"]
        assert isinstance(values, dict)
        if not values:
            raise HostRaise("core.update 'set' cannot be empty")
        filt = _filter(options, "update")

        def run() -> None:
            rows = matching_rows(short, filt, "update")
            with core_writes(plugin):
                writer().update(plugin, short, values, rows)

        return outcome(vm, run, returns=False)

    def delete(table: Any = None, opts: Any = None, *_: Any) -> tuple[Any, ...]:
        short = _table(table, "delete")
        vm.charge()
        filt = _filter(from_lua(opts), "delete")

        def run() -> None:
            rows = matching_rows(short, filt, "delete")
            with core_writes(plugin):
                writer().delete(plugin, short, rows)

        return outcome(vm, run, returns=False)

    functions = {
        "query": read("query", "core_query"),
        "query_one": read("query_one", "core_query_one"),
        "count": read("count", "core_count"),
        "exists": read("exists", "core_exists"),
        "insert": insert,
        "update": update,
        "delete": delete,
    }
    real = sandbox.table()
    for name, fn in functions.items():
        real[name.encode()] = sandbox.lua_function(fn, f"core.{name}")
    return real
