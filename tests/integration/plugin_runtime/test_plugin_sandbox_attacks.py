"""Hostile fixture plugins against a real sandbox: every attack ends in a clear error,
the VM stays usable and the host process keeps running."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from modulacms.errors import PluginError
from modulacms.plugin_runtime.convert import from_lua
from modulacms.plugin_runtime.options import SandboxLimits
from modulacms.plugin_runtime.sandbox import ExecResult, ExecStatus, Sandbox

PLUGINS = Path(__file__).resolve().parents[2] / "data" / "plugins"
LIMITS = SandboxLimits(memory_limit=16 * 1024 * 1024)
STOPPED = {ExecStatus.TIMEOUT, ExecStatus.BUDGET}


def boot(name: str, limits: SandboxLimits = LIMITS) -> Sandbox:
    sb = Sandbox(name=name, limits=limits)
    fn = sb.compile((PLUGINS / name / "init.lua").read_bytes(), f"{name}/init.lua")
    assert sb.call(fn, timeout=2.0).ok
    return sb


def call(sb: Sandbox, function: str, timeout: float = 0.25) -> ExecResult:
    with sb.checkout(timeout):
        return sb.run(sb.get_global(function))


def plain(result: ExecResult) -> list[Any]:
    assert result.ok, result.message
    return [from_lua(v) for v in result.values]


@pytest.fixture(scope="module")
def loops() -> Sandbox:
    return boot("attack_loops")


@pytest.mark.parametrize(
    "attack",
    [
        "attack_plain",
        "attack_under_pcall",
        "attack_nested_pcall",
        "attack_xpcall_handler",
        "attack_coroutine",
        "attack_coroutine_under_pcall",
        "attack_tostring_metamethod",
        "attack_index_metamethod",
        "attack_sort_comparator",
        "attack_gsub_callback",
    ],
)
def test_endless_loops_are_stopped_by_the_deadline(loops: Sandbox, attack: str) -> None:
    started = time.monotonic()
    result = call(loops, attack)
    assert result.status in STOPPED, (result.status, result.message)
    assert "context deadline exceeded" in result.message
    assert time.monotonic() - started < 1.0
    assert plain(call(loops, "ok")) == ["still alive"]


def test_error_objects_are_never_stringified_by_the_host(loops: Sandbox) -> None:
    result = call(loops, "attack_error_object_loop")
    assert result.status is ExecStatus.ERROR
    assert result.message == "(error object is a table value)"


def test_loops_are_stopped_by_the_instruction_budget() -> None:
    sb = boot("attack_loops", SandboxLimits(instruction_limit=200_000))
    for attack in ("attack_under_pcall", "attack_coroutine_under_pcall"):
        result = call(sb, attack, timeout=5.0)
        assert result.status is ExecStatus.BUDGET
        assert "instruction budget" in result.message


def test_a_coroutine_kept_across_executions_is_still_stopped(loops: Sandbox) -> None:
    assert plain(call(loops, "attack_kept_coroutine")) == [True, "first"]
    assert call(loops, "attack_kept_coroutine").status in STOPPED
    assert plain(call(loops, "ok")) == ["still alive"]


def test_finalizers_never_run_plugin_code(loops: Sandbox) -> None:
    assert plain(call(loops, "attack_finalizer")) == ["survived"]
    loops._runtime.gccollect()  # a host-triggered collection must not hang either
    assert plain(call(loops, "ok")) == ["still alive"]


@pytest.fixture(scope="module")
def memory() -> Sandbox:
    return boot("attack_memory")


@pytest.mark.parametrize(
    ("attack", "message"),
    [
        ("attack_string_rep", "resulting string too large"),
        ("attack_string_rep_method", "resulting string too large"),
        ("attack_table_growth", "not enough memory"),
        ("attack_concat", "not enough memory"),
        ("attack_table_concat", "not enough memory"),
    ],
)
def test_memory_bombs_end_in_an_error(memory: Sandbox, attack: str, message: str) -> None:
    result = call(memory, attack, timeout=2.0)
    assert result.status in {ExecStatus.MEMORY, ExecStatus.ERROR}
    assert message in result.message
    assert memory.memory_used() <= LIMITS.memory_limit + LIMITS.memory_headroom
    assert plain(call(memory, "ok")) == [1000]


@pytest.mark.parametrize(
    ("attack", "message"),
    [
        ("attack_huge_return", "value too large"),
        ("attack_cycle_return", "or a cycle"),
        ("attack_deep_return", "nested too deeply"),
    ],
)
def test_hostile_return_values_are_refused_by_the_converter(
    memory: Sandbox, attack: str, message: str
) -> None:
    started = time.monotonic()
    result = call(memory, attack, timeout=2.0)
    assert result.ok
    with pytest.raises(PluginError, match=message):
        memory.convert(result.first)
    assert time.monotonic() - started < 1.0


def test_memory_errors_caught_by_pcall_stay_contained(memory: Sandbox) -> None:
    result = call(memory, "attack_concat_under_pcall", timeout=1.0)
    assert result.status in {ExecStatus.MEMORY, ExecStatus.TIMEOUT, ExecStatus.OK}
    assert plain(call(memory, "ok")) == [1000]


@pytest.fixture(scope="module")
def escape() -> Sandbox:
    return boot("attack_escape")


def test_no_host_object_is_reachable(escape: Sandbox) -> None:
    assert plain(call(escape, "probe_globals")) == [""]
    assert plain(call(escape, "probe_fenv")) == ["contained"]
    assert plain(call(escape, "probe_loadstring_env")) == [""]
    assert plain(call(escape, "probe_string_metatable")) == ["protected"]
    assert plain(call(escape, "probe_host_error")) == ["string"]


def test_environment_changes_outside_the_plugin_are_refused(escape: Sandbox) -> None:
    ok, message = plain(call(escape, "probe_setfenv_thread"))
    assert ok is False and "environment of the thread" in message
    ok, message = plain(call(escape, "probe_setfenv_host"))
    assert ok is False and "environment of a host function" in message
    ok, message = plain(call(escape, "probe_module"))
    assert ok is False and "module() is not available" in message
    ok, message = plain(call(escape, "probe_collectgarbage"))
    assert ok is False and "not available" in message


def test_a_chunk_cannot_claim_the_kernel_name(escape: Sandbox) -> None:
    assert call(escape, "probe_chunkname_spoof").status in STOPPED


@pytest.fixture(scope="module")
def recursion() -> Sandbox:
    return boot("attack_recursion")


@pytest.mark.parametrize(
    "attack",
    [
        "attack_lua_recursion",
        "attack_pcall_recursion",
        "attack_metamethod_recursion",
        "attack_coroutine_recursion",
        "attack_tostring_recursion",
    ],
)
def test_deep_recursion_raises_a_stack_error(recursion: Sandbox, attack: str) -> None:
    result = call(recursion, attack, timeout=2.0)
    assert result.status in {ExecStatus.ERROR, ExecStatus.MEMORY}
    assert "stack overflow" in result.message or "not enough memory" in result.message
    assert plain(call(recursion, "ok")) == ["fine"]


@pytest.fixture(scope="module")
def patterns() -> Sandbox:
    return boot("attack_patterns", SandboxLimits(memory_limit=32 * 1024 * 1024))


@pytest.mark.parametrize(
    "attack", ["attack_find", "attack_method_match", "attack_gmatch", "attack_gsub"]
)
def test_catastrophic_patterns_are_refused(patterns: Sandbox, attack: str) -> None:
    started = time.monotonic()
    result = call(patterns, attack, timeout=2.0)
    assert result.status is ExecStatus.ERROR
    assert "pattern too expensive" in result.message
    assert time.monotonic() - started < 0.5


def test_quadratic_plain_search_is_refused(patterns: Sandbox) -> None:
    result = call(patterns, "attack_plain_find", timeout=2.0)
    assert result.status is ExecStatus.ERROR
    assert "search too expensive" in result.message


def test_a_loop_of_affordable_matches_is_still_stopped(patterns: Sandbox) -> None:
    started = time.monotonic()
    result = call(patterns, "attack_repeat_calls", timeout=0.3)
    assert result.status in STOPPED
    assert time.monotonic() - started < 1.5


def test_ordinary_patterns_still_work(patterns: Sandbox) -> None:
    assert plain(call(patterns, "ok_trim", timeout=2.0)) == [9999]
    assert plain(call(patterns, "ok_csv", timeout=2.0)) == [10000]
