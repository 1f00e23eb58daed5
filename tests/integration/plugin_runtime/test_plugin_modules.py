"""The json, log, http and hooks modules and module freezing, on real VMs."""

from __future__ import annotations

import logging
import time

import pytest
from plugin_helpers import call, make_vm, values

from modulacms.plugin_runtime.options import RuntimeOptions
from modulacms.plugin_runtime.vm import Phase


def test_json_encode_follows_go() -> None:
    vm = make_vm("json_plugin")
    assert values(call(vm, "encode_cases"))[0] == [
        "null",
        "{}",
        '{"a":[1,2,3],"b":1,"c":"\\u003c\\u0026\\u003e"}',
        "[1.5,5,1e+21]",
        '{"1":"a","3":"c"}',
        '"x"',
    ]


def test_json_encode_writes_huge_and_tiny_numbers_as_go() -> None:
    vm = make_vm("json_plugin")
    source = (
        b"return json.encode({1e19, 2^63, 0.5, -1e19}),"
        b" json.encode({1e19, 2^63, 1e-05, 1e-7, 0.5, 1e21})"
    )
    result = vm.execute(vm.sandbox.compile(source, "json_plugin/numbers.lua"), timeout=1.0)
    assert values(result) == [
        "[10000000000000000000,9223372036854775808,0.5,-10000000000000000000]",
        "[10000000000000000000,9223372036854775808,0.00001,1e-7,0.5,1e+21]",
    ]


def test_json_decode_follows_the_spec() -> None:
    vm = make_vm("json_plugin")
    assert values(call(vm, "decode_cases")) == [1, 3, 2, True, None, "s", 42, 42]


@pytest.mark.parametrize(
    ("function", "message"),
    [
        ("encode_nan", "json.encode: json: unsupported value: NaN"),
        ("decode_invalid", "json.decode: "),
        ("decode_non_string", "bad argument #1 to 'decode' (string expected, got table)"),
        ("shared_bomb", "value too large"),
        ("deep_decode", "json.decode: nesting"),
    ],
)
def test_json_errors_raise(function: str, message: str) -> None:
    vm = make_vm("json_plugin")
    result = call(vm, function)
    assert not result.ok
    assert message in result.message


def test_frozen_modules_refuse_tampering() -> None:
    vm = make_vm("attack_frozen")
    for attack, message in [
        ("attack_write_field", 'cannot modify frozen module "log" (key "info")'),
        ("attack_new_field", 'cannot modify frozen module "json" (key "evil")'),
        ("attack_table_key", "string expected, got table"),
        ("attack_setmetatable", "cannot change a protected metatable"),
    ]:
        result = call(vm, attack)
        assert not result.ok and message in result.message
    assert values(call(vm, "probe_getmetatable")) == ["protected"]
    assert values(call(vm, "probe_enumerate")) == [0, 0, None]
    ok, _ = values(call(vm, "attack_string_metatable"))
    assert ok is False
    ok, _ = values(call(vm, "attack_string_metatable_set"))
    assert ok is False
    assert values(call(vm, "probe_still_works")) == ['{"a":1}', "ABC"]


def test_rebinding_an_api_global_discards_the_vm() -> None:
    vm = make_vm("attack_frozen")
    result = vm.execute(vm.sandbox.get_global("attack_rebind"), timeout=1.0)
    assert [v for v in result.values] == [b"fake"]
    assert vm.release() is False  # the pool replaces such a VM


def test_log_lines_carry_plugin_and_context(caplog: pytest.LogCaptureFixture) -> None:
    vm = make_vm("reload_plugin")
    vm.phase = Phase.INIT
    with caplog.at_level(logging.INFO, logger="modulacms.plugins.reload_plugin"):
        result = vm.execute(vm.sandbox.get_global("on_init"), timeout=1.0)
    assert result.ok
    assert "reload_plugin init plugin=reload_plugin version=1.0.0" in caplog.messages


def test_log_floods_are_capped_and_rate_limited(caplog: pytest.LogCaptureFixture) -> None:
    options = RuntimeOptions(max_log_bytes=1000, log_rate_per_second=50.0)
    vm = make_vm("log_flood", options=options)
    with caplog.at_level(logging.INFO, logger="modulacms.plugins.log_flood"):
        started = time.monotonic()
        for function in ("flood_lines", "flood_big", "flood_print"):
            assert values(call(vm, function, timeout=5.0)) == ["done"]
    assert time.monotonic() - started < 10.0
    assert len(caplog.records) < 400
    assert all(len(r.getMessage()) <= 1100 for r in caplog.records)
    assert vm.ctx.logger.dropped > 0


def test_log_arguments() -> None:
    vm = make_vm("reload_plugin")
    fn = vm.sandbox.compile(
        b"log.info(42) log.warn('w', 'not a table') return pcall(log.error, {})", "x"
    )
    result = vm.execute(fn, timeout=1.0)
    assert [bool(result.values[0])] == [False]
    assert b"bad argument #1 to 'error' (string expected, got table)" in result.values[1]


REGISTRATION = b"""
local function h() end
local results = {}
local function try(f, ...) local ok, e = pcall(f, ...) results[#results + 1] = ok or e end
try(http.handle, "GET", "/ok", h)
try(http.handle, "GET", "/items/{id}", h, { public = true })
try(http.handle, "get", "/x", h)
try(http.handle, "GET", "no-slash", h)
try(http.handle, "GET", "/a/../b", h)
try(http.handle, "GET", "/a?b", h)
try(http.handle, "GET", "/a b", h)
try(http.handle, "GET", "/a{b}", h)
try(http.handle, "GET", "/ok", h)
try(http.handle, "GET", "/f", "not a function")
try(http.use, h)
try(hooks.on, "before_create", "content_data", h, { priority = 5000 })
try(hooks.on, "after_update", "*", h)
try(hooks.on, "before_insert", "content_data", h)
try(hooks.on, "before_read", "*", h)
try(hooks.on, "before_create", "", h)
return results
"""


def test_registration_rules_at_module_scope() -> None:
    vm = make_vm("reload_plugin")
    vm.phase = Phase.MODULE_SCOPE
    results = values(vm.execute(vm.sandbox.compile(REGISTRATION, "reg"), timeout=1.0))[0]
    assert results[:2] == [True, True]
    assert "invalid HTTP method" in results[2]
    assert all("invalid route path" in r for r in results[3:8])
    assert "duplicate route: GET /ok already registered" in results[8]
    assert "function expected, got string" in results[9]
    assert results[10] is True and results[11] is True and results[12] is True
    assert 'invalid hook event "before_insert"' in results[13]
    assert "wildcard table (*) is not allowed for read hooks" in results[14]
    assert "table name cannot be empty" in results[15]
    reg = vm.registered
    assert list(reg.routes) == ["GET /ok", "GET /items/{id}"]
    assert reg.routes["GET /items/{id}"].public is True
    assert len(reg.middleware) == 1
    assert [(h.event, h.table, h.priority) for h in reg.hooks] == [
        ("before_create", "content_data", 1000),
        ("after_update", "*", 100),
    ]


def test_registration_outside_module_scope_raises() -> None:
    vm = make_vm("reload_plugin")
    vm.phase = Phase.INIT
    src = b"""
      local a = select(2, pcall(http.handle, "GET", "/x", function() end))
      local b = select(2, pcall(http.use, function() end))
      local c = select(2, pcall(hooks.on, "before_create", "t", function() end))
      return a, b, c
    """
    a, b, c = values(vm.execute(vm.sandbox.compile(src, "x"), timeout=1.0))
    assert a.endswith("http.handle() must be called at module scope, not inside on_init()")
    assert b.endswith("http.use() must be called at module scope, not inside on_init()")
    assert c.endswith("hooks.on() must be called at module scope, not inside on_init()")


def test_route_limit() -> None:
    vm = make_vm("reload_plugin", options=RuntimeOptions(max_routes=3))
    vm.phase = Phase.MODULE_SCOPE
    src = b"""
      for i = 1, 3 do http.handle("GET", "/r" .. i, function() end) end
      return select(2, pcall(http.handle, "GET", "/r4", function() end))
    """
    assert (
        "plugin exceeded maximum route limit (3)"
        in values(vm.execute(vm.sandbox.compile(src, "x"), timeout=1.0))[0]
    )
