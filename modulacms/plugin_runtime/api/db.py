"""The ``db`` module: the plugin's own tables (spec §4), on :class:`PluginStore`.

Every table name is short; the store prefixes ``plugin_<name>_`` and checks ownership,
identifiers, operators and limits (``modulacms.db.query``). This module adds what belongs
to the runtime: the op budget and the before-hook block (:meth:`PluginVM.charge`), the
raise-or-return rule (``QueryRejected.raises``), ``db.transaction`` (one transaction that
sees its own writes; nested calls raise) and the sentinel constructors, which are plain
Lua functions (no host round trip).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from modulacms.core.ids import new_id
from modulacms.db.query import timestamp, timestamp_ago
from modulacms.errors import ModulaError, PluginTimeout, QueryRejected, StoreError
from modulacms.plugin_runtime.api.args import bad_argument, type_name
from modulacms.plugin_runtime.convert import from_lua
from modulacms.plugin_runtime.sandbox import HostRaise, HostTimeout

if TYPE_CHECKING:
    from modulacms.plugin_runtime.vm import PluginVM

GLUE = """
local K, db, begin, finish = ...
local type, select, error, pcall = type, select, error, pcall

function db.transaction(fn)
  if type(fn) ~= "function" then
    error("bad argument #1 to 'transaction' (function expected, got " .. type(fn) .. ")", 2)
  end
  local started, err = K.call_host(begin)
  if not started then error(err, 2) end
  local done, failure = pcall(fn)
  local ok, n, committed, message = K.call_host(finish, done)
  if not ok then return false, n end
  if not done then return false, K.describe(failure) end
  if not committed then return false, message end
  return true, nil
end

local function condition(op)
  return function(v)
    if v == nil then error("condition value cannot be nil", 2) end
    return { __op = op, __val = v }
  end
end
db.eq, db.neq = condition("eq"), condition("neq")
db.gt, db.gte = condition("gt"), condition("gte")
db.lt, db.lte = condition("lt"), condition("lte")

function db.like(s)
  if type(s) ~= "string" then return nil, "like requires a string value" end
  return { __op = "like", __val = s }
end

function db.not_like(s)
  if type(s) ~= "string" then return nil, "not_like requires a string value" end
  return { __op = "not_like", __val = s }
end

local function list(op, name)
  return function(...)
    local n = select("#", ...)
    if n == 0 then error(name .. " requires at least one value", 2) end
    local values = {}
    for i = 1, n do
      local v = select(i, ...)
      if v == nil then error("condition value cannot be nil", 2) end
      values[i] = v
    end
    return { __op = op, __val = values }
  end
end
db.in_list = list("in", "in_list")
db.not_in = list("not_in", "not_in")

function db.between(lo, hi)
  if lo == nil or hi == nil then error("condition value cannot be nil", 2) end
  return { __op = "between", __val = { lo, hi } }
end

function db.is_null() return { __op = "is_null" } end
function db.is_not_null() return { __op = "is_not_null" } end

local function aggregate(func)
  return function(arg, alias)
    if type(arg) ~= "string" then
      error("bad argument #1 to 'agg_" .. func:lower() .. "' (string expected)", 2)
    end
    return { __agg = func, __arg = arg, __alias = alias }
  end
end
db.agg_count, db.agg_sum, db.agg_avg = aggregate("COUNT"), aggregate("SUM"), aggregate("AVG")
db.agg_min, db.agg_max = aggregate("MIN"), aggregate("MAX")
"""


def _table_name(value: Any, function: str) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    got = "no value" if value is None else type_name(value)
    raise bad_argument(1, function, f"string expected, got {got}")


def sql_deadline(vm: PluginVM) -> AbstractContextManager[None]:
    """The VM's current execution deadline applied to the SQL of this thread (spec §4.3):
    a statement still running when the plugin's time is up is interrupted."""
    store = vm.ctx.services.store
    if store is None or vm.exec.deadline <= 0:
        return contextlib.nullcontext()
    deadline: AbstractContextManager[None] = store.deadline(vm.exec.deadline)
    return deadline


def outcome(vm: PluginVM, call: Callable[[], Any], *, returns: bool) -> tuple[Any, ...]:
    """Run a store call under the execution deadline with the spec's error rules: raise
    (argument shape errors, interrupted by the deadline) or ``nil, err``."""
    try:
        with sql_deadline(vm):
            result = call()
    except QueryRejected as exc:
        if exc.raises:
            raise HostRaise(exc.message) from None
        return (None, exc.message)
    except PluginTimeout as exc:
        raise HostTimeout(exc.message) from None
    except StoreError as exc:
        return (None, exc.message)
    except ModulaError as exc:
        return (None, exc.message)
    return (result,) if returns else ()


def install(vm: PluginVM) -> Any:
    sandbox = vm.sandbox
    plugin = vm.name

    def store() -> Any:
        found = vm.ctx.services.store
        if found is None:
            raise HostRaise("db is not available: no database is configured")
        return found

    def read(name: str, method: str) -> Callable[..., tuple[Any, ...]]:
        def call(table: Any = None, opts: Any = None, *_: Any) -> tuple[Any, ...]:
            short = _table_name(table, name)
            vm.charge()
            options = from_lua(opts) if opts is not None else None
            return outcome(
                vm, lambda: getattr(store(), method)(plugin, short, options), returns=True
            )

        return call

    def query(table: Any = None, opts: Any = None, *_: Any) -> tuple[Any, ...]:
        # Rows go to Lua straight from SQLite's tuples, without a dict per row.
        short = _table_name(table, "query")
        vm.charge()
        options = from_lua(opts) if opts is not None else None
        found = outcome(vm, lambda: store().query_columns(plugin, short, options), returns=True)
        if len(found) == 1:
            return (sandbox.columns_to_lua(found[0].names, found[0].rows),)
        return found

    def write(name: str, method: str) -> Callable[..., tuple[Any, ...]]:
        def call(table: Any = None, arg: Any = None, *_: Any) -> tuple[Any, ...]:
            short = _table_name(table, name)
            vm.charge()
            value = from_lua(arg)
            return outcome(
                vm, lambda: getattr(store(), method)(plugin, short, value), returns=False
            )

        return call

    def define_table(name: Any = None, definition: Any = None, *_: Any) -> tuple[Any, ...]:
        short = _table_name(name, "define_table")
        value = from_lua(definition)
        try:
            with sql_deadline(vm):
                store().define_table(plugin, short, value)
        except ModulaError as exc:
            raise HostRaise(exc.message) from None
        return ()

    def insert_many(
        table: Any = None, columns: Any = None, rows: Any = None, *_: Any
    ) -> tuple[Any, ...]:
        short = _table_name(table, "insert_many")
        cols, data = from_lua(columns), from_lua(rows)

        def charge(batches: int) -> None:
            vm.charge(0)
            left = vm.ops_left()
            if batches > left:
                raise QueryRejected(
                    f"insert_many: would consume {batches} operations, only {left} left"
                )
            vm.charge(batches)

        return outcome(
            vm, lambda: store().insert_many(plugin, short, cols, data, charge=charge), returns=False
        )

    def begin() -> tuple[Any, ...]:
        if vm.exec.transaction is not None:
            raise HostRaise("nested transactions are not allowed")
        stack = contextlib.ExitStack()
        try:
            stack.enter_context(store().transaction())
        except ModulaError as exc:
            raise HostRaise(exc.message) from None
        vm.exec.transaction = stack
        return ()

    def finish(succeeded: Any = None) -> tuple[Any, ...]:
        stack = vm.exec.transaction
        vm.exec.transaction = None
        if stack is None:
            return (False, "no transaction is active")
        try:
            if succeeded:
                stack.close()
            else:
                stack.__exit__(_Rollback, _Rollback(), None)
        except _Rollback:
            pass
        except ModulaError as exc:
            return (False, exc.message)
        return (bool(succeeded), None)

    def ulid(*_: Any) -> tuple[Any, ...]:
        return (new_id(),)

    def now(*_: Any) -> tuple[Any, ...]:
        return (timestamp(),)

    def ago(seconds: Any = None, *_: Any) -> tuple[Any, ...]:
        if not isinstance(seconds, int | float) or isinstance(seconds, bool):
            raise bad_argument(1, "timestamp_ago", f"number expected, got {type_name(seconds)}")
        return (timestamp_ago(int(seconds)),)

    functions: dict[str, Callable[..., tuple[Any, ...]]] = {
        "query": query,
        "query_one": read("query_one", "query_one"),
        "count": read("count", "count"),
        "exists": read("exists", "exists"),
        "insert": write("insert", "insert"),
        "update": write("update", "update"),
        "delete": write("delete", "delete"),
        "upsert": write("upsert", "upsert"),
        "create_index": write("create_index", "create_index"),
        "insert_many": insert_many,
        "define_table": define_table,
        "ulid": ulid,
        "timestamp": now,
        "timestamp_ago": ago,
    }
    real = sandbox.table()
    for name, fn in functions.items():
        real[name.encode()] = sandbox.lua_function(fn, f"db.{name}")
    sandbox.trusted(
        GLUE,
        real,
        sandbox.host_function(begin, "db.transaction"),
        sandbox.host_function(finish, "db.transaction"),
    )
    return real


class _Rollback(Exception):
    """Thrown into the transaction context to make it roll back."""
