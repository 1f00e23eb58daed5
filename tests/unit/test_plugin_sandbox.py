"""The Lua sandbox on its own: language semantics, environment, host calls, limits."""

from __future__ import annotations

import datetime
import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modulacms.errors import PluginError, PluginLoadError
from modulacms.plugin_runtime.convert import ConversionError, from_lua, prepare
from modulacms.plugin_runtime.options import SandboxLimits
from modulacms.plugin_runtime.sandbox import ExecStatus, HostRaise, Sandbox, _NoRoom


@pytest.fixture
def sandbox() -> Sandbox:
    return Sandbox(name="unit", limits=SandboxLimits(memory_limit=8 * 1024 * 1024))


def run(sb: Sandbox, source: str, *args: Any, timeout: float = 1.0) -> Any:
    fn = sb.compile(source.encode(), "unit/init.lua")
    return sb.call(fn, *args, timeout=timeout)


def values(sb: Sandbox, source: str, *args: Any) -> list[Any]:
    result = run(sb, source, *args)
    assert result.ok, result.message
    return [from_lua(v) for v in result.values]


def test_lua_51_semantics(sandbox: Sandbox) -> None:
    assert values(sandbox, "return 10/2, tostring(10/2), 7 % 3, 2^10") == [5, "5", 1, 1024]
    assert values(sandbox, "return unpack({1, 2, 3})") == [1, 2, 3]
    assert values(sandbox, "return table.getn({1, 2}), table.maxn({[7] = 1})") == [2, 7]
    assert values(sandbox, "return _VERSION") == ["Lua 5.1"]
    assert values(sandbox, "local s = 'hello' return s:sub(1, 4), s:upper(), #s") == [
        "hell",
        "HELLO",
        5,
    ]


def test_environment_has_exactly_the_spec_globals(sandbox: Sandbox) -> None:
    names = values(
        sandbox, "local t = {} for k in pairs(_G) do t[#t + 1] = k end table.sort(t) return t"
    )[0]
    assert names == sorted(
        "_G _VERSION assert collectgarbage coroutine error getfenv getmetatable ipairs "
        "loadstring math module next pairs pcall print require select setfenv "
        "setmetatable string table tonumber tostring type unpack xpcall".split()
    )


def test_manifest_vm_has_no_coroutine_library() -> None:
    sb = Sandbox(name="manifest", coroutines=False)
    assert values(sb, "return coroutine") == [None]


def test_globals_created_by_plugin_code_live_in_the_plugin_env(sandbox: Sandbox) -> None:
    values(sandbox, "counter = 41")
    assert values(sandbox, "counter = counter + 1 return counter, _G.counter") == [42, 42]


def test_getfenv_and_setfenv_work_on_plugin_functions(sandbox: Sandbox) -> None:
    src = """
      local function f() return x end
      setfenv(f, { x = "mine" })
      return f(), getfenv(f).x, getfenv(1) == _G
    """
    assert values(sandbox, src) == ["mine", "mine", True]


def test_loadstring_compiles_text_in_the_plugin_env(sandbox: Sandbox) -> None:
    assert values(sandbox, "y = 3 return loadstring('return y * 2')()") == [6]
    assert values(sandbox, "return loadstring('\\27Lua')") == [
        None,
        "binary chunks are not allowed",
    ]
    msg = values(sandbox, "return loadstring('return +', 'mine')")[1]
    assert msg.startswith("loadstring:mine:1:")


def test_compile_refuses_bytecode_and_reports_syntax_errors(sandbox: Sandbox) -> None:
    with pytest.raises(PluginLoadError, match="binary chunks"):
        sandbox.compile(b"\x1bLuaQ\x00", "unit/init.lua")
    with pytest.raises(PluginLoadError, match=r"unit/init.lua:1:"):
        sandbox.compile(b"x = = 1", "unit/init.lua")


def test_error_messages_carry_plugin_relative_chunk_names(sandbox: Sandbox) -> None:
    result = run(sandbox, "\n\nerror('bad thing')")
    assert result.status is ExecStatus.ERROR
    assert result.message == "unit/init.lua:3: bad thing"


def test_non_string_error_objects_are_described(sandbox: Sandbox) -> None:
    result = run(sandbox, "error({ code = 1 })")
    assert result.message == "(error object is a table value)"


def test_print_goes_to_the_sink() -> None:
    lines: list[str] = []
    sb = Sandbox(name="p", print_sink=lines.append)
    values(sb, "print('a', 1, nil, true, 2.5)")
    assert lines == ["a\t1\tnil\ttrue\t2.5"]


def test_host_function_protocol(sandbox: Sandbox) -> None:
    def add(a: Any, b: Any) -> tuple[Any, ...]:
        if not isinstance(a, int | float):
            raise HostRaise("add: number expected")
        return (a + b, {"sum": a + b, "parts": [a, None, b]})

    def nothing() -> None:
        return None

    def broken() -> tuple[Any, ...]:
        raise RuntimeError("python detail that must not leak")

    for name, fn in (("add", add), ("nothing", nothing), ("broken", broken)):
        sandbox.trusted(
            "local K, name, f = ... K.set_global(name, f)", name, sandbox.lua_function(fn, name)
        )
    assert values(sandbox, "local s, t = add(2, 3) return s, t.sum, #t.parts") == [5, 5, 2]
    assert values(sandbox, "return select('#', nothing())") == [0]
    err = values(sandbox, "local ok, e = pcall(function() local r = add('x', 1) end) return ok, e")
    assert err == [False, "unit/init.lua:1: add: number expected"]
    err = values(sandbox, "local ok, e = pcall(broken) return type(e), e")
    assert err[0] == "string"
    assert "python detail" not in err[1] and "internal error" in err[1]


def test_tables_from_lua_are_converted_per_spec(sandbox: Sandbox) -> None:
    src = """
      return {1, 2, 3}, {}, {a = 1, b = {true, false}}, {1, 2, x = 3}, {[2] = "b", [3] = "c"},
             {f = function() end}, {[1.5] = "x"}
    """
    assert values(sandbox, src) == [
        [1, 2, 3],
        {},
        {"a": 1, "b": [True, False]},
        {"1": 1, "2": 2, "x": 3},
        {"2": "b", "3": "c"},
        {"f": None},
        {"1.5": "x"},
    ]


def test_prepare_drops_nulls_and_never_passes_python_objects() -> None:
    data, cost = prepare({"a": None, "b": [1, None, 2], "c": object(), 3: "x", "d": "é"})
    assert data == {b"b": [1, 2], 3: b"x", b"d": "é".encode()}
    assert cost > 0


def test_invalid_utf8_strings_arrive_as_bytes(sandbox: Sandbox) -> None:
    assert values(sandbox, "return '\\255\\254', 'ok'") == [b"\xff\xfe", "ok"]


def test_host_pushes_are_refused_when_they_would_not_fit(sandbox: Sandbox) -> None:
    def big() -> tuple[Any, ...]:
        return ("x" * (20 * 1024 * 1024),)

    sandbox.trusted("local K, f = ... K.set_global('big', f)", sandbox.lua_function(big, "big"))
    result = run(sandbox, "return pcall(function() local r = big() return r end)")
    assert [from_lua(v) for v in result.values] == [False, "unit/init.lua:1: not enough memory"]


def test_plugin_code_cannot_run_outside_a_checkout(sandbox: Sandbox) -> None:
    fn = sandbox.compile(b"return 1", "unit/init.lua")
    assert sandbox.run(fn).status is ExecStatus.ERROR


def test_instruction_budget() -> None:
    sb = Sandbox(name="b", limits=SandboxLimits(instruction_limit=100_000))
    result = run(sb, "local n = 0 while true do n = n + 1 end")
    assert result.status is ExecStatus.BUDGET
    assert "instruction budget" in result.message
    assert values(sb, "local n = 0 for i = 1, 1000 do n = n + i end return n") == [500500]


def test_deadline_applies_to_the_whole_checkout(sandbox: Sandbox) -> None:
    spin = sandbox.compile(b"local t = os_time while true do end", "unit/init.lua")
    quick = sandbox.compile(b"return 1", "unit/init.lua")
    started = time.monotonic()
    with sandbox.checkout(0.1):
        first = sandbox.run(spin)
        second = sandbox.run(quick)
    assert first.status is ExecStatus.TIMEOUT
    assert "context deadline exceeded" in first.message
    assert second.status is ExecStatus.TIMEOUT  # the checkout stays exhausted
    assert time.monotonic() - started < 1.0
    assert values(sandbox, "return 2") == [2]


def test_global_snapshot_and_reset(sandbox: Sandbox) -> None:
    values(sandbox, "keep_me = 1")
    keep = sandbox.global_names()
    values(sandbox, "keep_me = 2 leaked = true")
    assert sandbox.reset_globals(keep) is True
    assert values(sandbox, "return keep_me, leaked") == [2, None]


def test_run_once_arms_runs_disarms_and_resets_in_one_call(sandbox: Sandbox) -> None:
    values(sandbox, "keep_me = 1")
    sandbox.keep_globals(sandbox.global_names())
    fn = sandbox.compile(b"return function(x) leaked = x return x * 2 end", "unit/init.lua")
    with sandbox.checkout(1.0):
        handler = sandbox.run(fn).first
    result = sandbox.run_once(handler, 21, timeout=1.0)
    assert result.ok and from_lua(result.first) == 42
    # the run's new global is already gone; the pool's reset costs no second call
    assert sandbox.reset_globals(sandbox._keep) is True
    assert values(sandbox, "return keep_me, leaked") == [1, None]
    # disarmed afterwards: a kept function cannot run outside a checkout
    assert sandbox.run(handler, 1).status is ExecStatus.ERROR
    spin = sandbox.compile(b"return function() while true do end end", "unit/init.lua")
    with sandbox.checkout(1.0):
        looping = sandbox.run(spin).first
    started = time.monotonic()
    assert sandbox.run_once(looping, timeout=0.05).status is ExecStatus.TIMEOUT
    assert time.monotonic() - started < 1.0
    assert sandbox.run_once(looping, timeout=1.0, instructions=10_000).status is ExecStatus.BUDGET


def test_run_once_reports_a_replaced_api_module(sandbox: Sandbox) -> None:
    sandbox.install_module("json", sandbox.table({"x": 1}))
    sandbox.keep_globals(sandbox.global_names())
    fn = sandbox.compile(b"return function() json = {} end", "unit/init.lua")
    with sandbox.checkout(1.0):
        rebind = sandbox.run(fn).first
    assert sandbox.run_once(rebind, timeout=1.0).ok
    assert sandbox.reset_globals(sandbox._keep) is False


def test_database_rows_are_pushed_in_bulk(sandbox: Sandbox) -> None:
    rows = [
        {"id": "a", "n": 1, "price": 1.5, "ok": True, "raw": b"\xff"},
        {"id": "b", "n": 2},  # NULL columns are left out of a row
        {"id": "c\udcff", "n": 3, "price": 2.0, "ok": False, "raw": b""},
    ]
    table = sandbox.to_lua(rows)
    assert from_lua(table) == [
        {"id": "a", "n": 1, "price": 1.5, "ok": True, "raw": b"\xff"},
        {"id": "b", "n": 2},
        {"id": b"c\xff", "n": 3, "price": 2, "ok": False, "raw": ""},
    ]
    echo = "return function(rows) return #rows, rows[2].price, rows[3].id end"
    fn = sandbox.compile(echo.encode(), "unit/init.lua")
    with sandbox.checkout(1.0):
        handler = sandbox.run(fn).first
        result = sandbox.run(handler, rows)
    assert [from_lua(v) for v in result.values] == [3, None, b"c\xff"]


def test_bulk_rows_fall_back_for_values_lua_cannot_hold(sandbox: Sandbox) -> None:
    odd = [{"when": datetime.date(2026, 1, 1), "n": 1}, {"big": 2**70, "nested": [1, None]}]
    assert from_lua(sandbox.to_lua(odd)) == [{"n": 1}, {"big": float(2**70), "nested": [1]}]


def test_bulk_rows_are_refused_when_they_would_not_fit() -> None:
    small = Sandbox(name="unit", limits=SandboxLimits(memory_limit=1024 * 1024))
    rows = [{"text": "x" * 4096, "n": i} for i in range(4000)]
    with pytest.raises(_NoRoom):
        small.to_lua(rows)


def test_memory_recycling_signal() -> None:
    sb = Sandbox(name="r", limits=SandboxLimits(memory_limit=4 * 1024 * 1024))
    values(sb, "hold = {} for i = 1, 38 do hold[i] = string.rep('x', 99990) .. i end")
    assert sb.needs_recycle()
    values(sb, "hold = nil")
    assert not sb.needs_recycle()


def test_vms_are_independent() -> None:
    a = Sandbox(name="a")
    b = Sandbox(name="b")
    values(a, "function string.shout(s) return s:upper() end shared = 1")
    assert values(b, "return shared, string.shout") == [None, None]
    assert values(a, "return ('x'):shout()") == ["X"]


def test_sqlite_columns_are_pushed_in_bulk(sandbox: Sandbox) -> None:
    names = ("id", "n", "note", "raw")
    rows = [("a", 1, None, b"\xff"), ("b\u00e9", 2.5, "x", None)]
    table = sandbox.columns_to_lua(names, rows)
    assert from_lua(table) == [
        {"id": "a", "n": 1, "raw": b"\xff"},
        {"id": "bé", "n": 2.5, "note": "x"},
    ]
    # equal names (a join selecting two "id" columns): the last one wins, as for dicts
    joined = sandbox.columns_to_lua(("id", "id", "v"), [("x", "y", 1)])
    assert from_lua(joined) == [{"id": "y", "v": 1}]
    assert from_lua(sandbox.columns_to_lua((), [])) == {}


def _lua_literal(value: Any) -> str:
    if isinstance(value, dict):
        parts = [f"[{_lua_literal(k)}] = {_lua_literal(v)}" for k, v in value.items()]
        return "{" + ", ".join(parts) + "}"
    if isinstance(value, list):
        return "{" + ", ".join(_lua_literal(v) for v in value) + "}"
    if value == "<function>":
        return "function() end"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, bytes):
        return '"' + "".join(f"\\{b}" for b in value) + '"'
    if isinstance(value, str):
        return _lua_literal(value.encode())
    return repr(value)


_scalars = st.one_of(
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.booleans(),
    st.text(max_size=6),
)
_odd = st.one_of(
    st.just(b"\xff\xfe"), st.just("<function>"), st.lists(st.integers(0, 9), max_size=2)
)
_names = st.sampled_from(["id", "name", "price", "n", "\u00e9t\u00e9"])
_keys = st.one_of(_names, st.integers(1, 3))


@st.composite
def _rows(draw: st.DrawFn) -> list[dict[Any, Any]]:
    """Lists of rows: uniform (the bulk path) or with something that makes it step aside
    (a value that is not a scalar, a number key, a row of other keys)."""
    keys = draw(st.lists(_names, min_size=1, max_size=4, unique=True))
    cells = st.one_of(_scalars, _odd) if draw(st.booleans()) else _scalars
    count = draw(st.integers(0, 12))
    rows = [{k: draw(cells) for k in keys} for _ in range(count)]
    if rows and draw(st.integers(0, 3)) == 0:
        odd = draw(st.integers(0, len(rows) - 1))
        rows[odd] = draw(st.dictionaries(_keys, cells, max_size=4))
    return rows


@settings(max_examples=200, deadline=None)
@given(
    rows=_rows(),
    max_nodes=st.sampled_from([5, 40, 100_000, 100_000]),
    max_depth=st.sampled_from([1, 2, 32, 32]),
)
def test_rows_read_in_bulk_convert_exactly_like_row_by_row(
    rows: list[dict[Any, Any]], max_nodes: int, max_depth: int
) -> None:
    sb = _shared_sandbox()
    value = sb.trusted("return " + _lua_literal(rows))
    limits = SandboxLimits(max_depth=max_depth, max_nodes=max_nodes)
    sb.limits = limits

    def outcome(bulk: bool) -> Any:
        try:
            if bulk:
                return sb.convert(value)
            return from_lua(value, max_depth=max_depth, max_nodes=max_nodes)
        except PluginError as exc:
            return ("error", str(exc))
        except ConversionError as exc:
            return ("error", str(exc))

    assert outcome(bulk=True) == outcome(bulk=False)


_SHARED: list[Sandbox] = []


def _shared_sandbox() -> Sandbox:
    if not _SHARED:
        _SHARED.append(Sandbox(name="unit", limits=SandboxLimits()))
    return _SHARED[0]


def test_uniform_rows_take_the_bulk_path(sandbox: Sandbox) -> None:
    rows = sandbox.trusted(
        "return {{a = 1, b = 'x'}, {a = 2, b = 'y'}, {b = 'z', a = 3}, {a = 4, b = 'w'}}"
    )
    mixed = sandbox.trusted("return {{a = 1}, {a = 2, b = 3}}")
    reader = sandbox._rows
    assert reader is not None
    width, total, flat = reader.flatten(rows, 4)
    assert (width, total) == (2, 10)
    assert sorted(reader.values(flat, total)[:2]) == [b"a", b"b"]
    assert reader.flatten(mixed, 2) is None
    assert sandbox.convert(rows) == [
        {"a": 1, "b": "x"},
        {"a": 2, "b": "y"},
        {"a": 3, "b": "z"},
        {"a": 4, "b": "w"},
    ]
