"""``modulacms plugin test``: run a plugin's ``test/*.test.lua`` files (spec §14).

Setup: validate the plugin (a problem is exit code 2), create a throw-away project
database with the full schema, load the plugin in a runtime whose routes, hooks and
domains are all approved and whose outbound requests go to a mock, and build the HTTP
bridge. Then each test file runs in a fresh VM that does **not** run ``init.lua`` (use
``require`` for ``lib/`` modules and ``test.request`` / ``test.fire_hook`` to reach the
plugin); every global function ``test_*`` runs in name order, each inside a transaction
that is rolled back afterwards, between ``test.setup`` and ``test.teardown``. Unlike the
original, test VMs get the normal sandbox (no ``io``/``os``/``debug``) and every test
gets a fresh op budget.

The ``test`` module: ``assert``, ``assert_eq`` (deep), ``assert_neq``, ``assert_nil``,
``assert_not_nil``, ``assert_error``, ``assert_contains``, ``setup``, ``teardown``,
``request``, ``fire_hook``, ``mock_request``. Assertions record soft failures with the
caller's line and do not stop the test; a Lua error does (recorded with ``error``).
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from modulacms.core.events import HookEvent
from modulacms.core.models import Actor
from modulacms.errors import ModulaError, PluginLoadError, ValidationFailed
from modulacms.plugin_runtime import gojson
from modulacms.plugin_runtime.admin import validate_plugin
from modulacms.plugin_runtime.api.args import optional_table, string_arg
from modulacms.plugin_runtime.approvals import MemoryApprovals
from modulacms.plugin_runtime.bridge import BridgeRequest, PluginBridge
from modulacms.plugin_runtime.convert import from_lua, lua_type
from modulacms.plugin_runtime.instance import PluginInstance
from modulacms.plugin_runtime.manager import PluginManager
from modulacms.plugin_runtime.modules import make_context, standard_modules
from modulacms.plugin_runtime.options import RuntimeOptions
from modulacms.plugin_runtime.outbound import OutboundRequest
from modulacms.plugin_runtime.sandbox import HostRaise
from modulacms.plugin_runtime.services import HostServices
from modulacms.plugin_runtime.vm import Phase, PluginVM

log = logging.getLogger(__name__)

Out = Callable[[str], None]

GLUE = r"""
local K, T, record = ...
local type, tostring, next, pcall, error, select = type, tostring, next, pcall, error, select
local rawget, format, find = rawget, string.format, string.find
local assertions, setup_fn, teardown_fn = 0, nil, nil

local function show(v)
  if type(v) == "string" then return format("%q", v) end
  return tostring(v)
end

local function same(a, b, depth)
  if type(a) ~= type(b) then return false end
  if type(a) ~= "table" then return a == b or tostring(a) == tostring(b) end
  if a == b then return true end
  if depth > 32 then return false end
  for k, v in next, a do
    if not same(v, rawget(b, k), depth + 1) then return false end
  end
  for k in next, b do
    if rawget(a, k) == nil then return false end
  end
  return true
end

local function fail(message)
  local _, line = K.where(3)
  K.call_host(record, message, line)
end

local function prefix(msg)
  if msg == nil then return "" end
  return tostring(msg) .. ": "
end

function T.assert(cond, msg)
  assertions = assertions + 1
  if not cond then fail(msg or "assertion failed") end
end

function T.assert_eq(expected, actual, msg)
  assertions = assertions + 1
  if not same(expected, actual, 0) then
    fail(prefix(msg) .. "expected " .. show(expected) .. ", got " .. show(actual))
  end
end

function T.assert_neq(a, b, msg)
  assertions = assertions + 1
  if same(a, b, 0) then fail(prefix(msg) .. "expected values to differ, both " .. show(a)) end
end

function T.assert_nil(v, msg)
  assertions = assertions + 1
  if v ~= nil then fail(prefix(msg) .. "expected nil, got " .. show(v)) end
end

function T.assert_not_nil(v, msg)
  assertions = assertions + 1
  if v == nil then fail(prefix(msg) .. "expected a value, got nil") end
end

function T.assert_error(fn, substring)
  assertions = assertions + 1
  local ok, err = pcall(fn)
  if ok then
    fail("expected an error")
  elseif substring ~= nil and not find(tostring(err), substring, 1, true) then
    fail("expected error containing " .. show(substring) .. ", got " .. show(tostring(err)))
  end
end

function T.assert_contains(haystack, needle, msg)
  assertions = assertions + 1
  if type(haystack) ~= "string" or type(needle) ~= "string"
      or not find(haystack, needle, 1, true) then
    fail(prefix(msg) .. "expected " .. show(haystack) .. " to contain " .. show(needle))
  end
end

function T.setup(fn) setup_fn = fn end
function T.teardown(fn) teardown_fn = fn end

return {
  reset = function() assertions = 0 end,
  count = function() return assertions end,
  setup = function() return setup_fn end,
  teardown = function() return teardown_fn end,
}
"""

_WHERE = re.compile(r"^(?:[^:]*):(\d+): ")


@dataclass
class Failure:
    message: str
    line: int = 0
    error: bool = False

    def json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"message": self.message, "line": self.line}
        if self.error:
            data["error"] = True
        return data


@dataclass
class TestResult:
    file: str
    test: str
    duration_ms: float = 0.0
    assertions: int = 0
    failures: list[Failure] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures

    def json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "test": self.test,
            "passed": self.passed,
            "duration_ms": round(self.duration_ms, 3),
            "assertions": self.assertions,
            "failures": [f.json() for f in self.failures],
        }


class MockOutbound:
    """Outbound engine of the harness: answers from ``test.mock_request`` rules."""

    def __init__(self) -> None:
        self.rules: list[tuple[str, str, dict[str, Any]]] = []
        self._lock = threading.Lock()

    def add(self, method: str, target: str, response: dict[str, Any]) -> None:
        with self._lock:
            self.rules.append((method.upper(), target, response))

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()

    def send(self, request: OutboundRequest) -> dict[str, Any]:
        parts = urlsplit(request.url)
        target = (parts.hostname or "") + (parts.path or "")
        with self._lock:
            rules = list(self.rules)
        for method, wanted, response in rules:
            if method == request.method.upper() and wanted == target:
                return self._answer(response, request.parse_json)
        return {"error": f"mock: no rule matched {request.method} {request.url}"}

    @staticmethod
    def _answer(rule: dict[str, Any], parse_json: bool) -> dict[str, Any]:
        status = rule.get("status")
        out: dict[str, Any] = {
            "status": int(status) if isinstance(status, int | float) else 200,
            "headers": {},
        }
        if rule.get("json") is not None:
            out["body"] = gojson.encode(rule["json"])
            out["headers"]["content-type"] = "application/json"
            if parse_json:
                out["json"] = rule["json"]
        else:
            body = rule.get("body")
            out["body"] = body if isinstance(body, str) else ""
        return out


class Harness:
    """A loaded plugin plus everything its tests need."""

    def __init__(self, plugin_dir: Path, *, timeout: float = 5.0) -> None:
        from modulacms.app import build_app

        self.source_dir = plugin_dir.resolve()
        self.timeout = timeout
        self._tmp = tempfile.TemporaryDirectory(prefix="modulacms-plugin-test-")
        root = Path(self._tmp.name)
        self.app = build_app(root / "test.db", media_root=root / "media")
        plugins = root / "plugins"
        plugins.mkdir()
        shutil.copytree(self.source_dir, plugins / self.source_dir.name, symlinks=True)
        from modulacms.db.plugin_store import PluginStore

        self.outbound = MockOutbound()
        self.host = HostServices(
            store=PluginStore(self.app.db),
            core=self.app.services.plugin_core,
            outbound=self.outbound,
        )
        self.options = RuntimeOptions(max_vms=4, timeout=timeout, max_ops=1000)
        self.manager = PluginManager(
            plugins, self.options, self.host, MemoryApprovals(auto_approve=True)
        )
        self.manager.load_all()
        self.app.services.set_hooks(self.manager.hooks)
        instance = self.manager.instance(self.source_dir.name)
        if instance is None or not instance.running:
            reason = instance.failed_reason if instance else "not discovered"
            self.close()
            raise PluginLoadError(f'plugin "{self.source_dir.name}" did not load: {reason}')
        self.instance: PluginInstance = instance
        self.bridge = PluginBridge(self.manager)
        self.failures: list[Failure] = []

    def close(self) -> None:
        self.manager.shutdown()
        self.app.close()
        self._tmp.cleanup()

    # -- the test module ----------------------------------------------------------------

    def _install_test_module(self, vm: PluginVM) -> Any:
        sandbox = vm.sandbox

        def record(message: Any = None, line: Any = None, *_: Any) -> None:
            text = message.decode("utf-8", "replace") if isinstance(message, bytes) else "?"
            self.failures.append(Failure(text, int(line) if isinstance(line, int) else 0))
            return None

        real = sandbox.table()
        for name, fn in (
            ("request", self._request),
            ("fire_hook", self._fire_hook),
            ("mock_request", self._mock_request),
        ):
            real[name.encode()] = sandbox.lua_function(fn, f"test.{name}")
        control = sandbox.trusted(GLUE, real, sandbox.host_function(record, "test.record"))
        self._control = control
        return real

    def _request(
        self, method: Any = None, path: Any = None, opts: Any = None, *_: Any
    ) -> tuple[Any, ...]:
        verb = string_arg(method, 1, "request").upper()
        target = string_arg(path, 2, "request")
        options = optional_table(opts)
        auth = options.get("auth", "admin")
        if auth not in ("admin", "viewer", "none"):
            raise HostRaise(f'test.request: auth must be "admin", "viewer" or "none", got {auth!r}')
        given = options.get("headers")
        headers = (
            [(str(k), v) for k, v in given.items() if isinstance(v, str)]
            if isinstance(given, dict)
            else []
        )
        body = options.get("body")
        raw = body.encode("utf-8") if isinstance(body, str) else b""
        if isinstance(body, str) and not any(k.lower() == "content-type" for k, _ in headers):
            headers.append(("Content-Type", "application/json"))
        path_only, _mark, query = target.partition("?")
        response = self.bridge.handle(
            BridgeRequest(verb, path_only, query, headers, raw, "127.0.0.1", auth != "none")
        )
        out_headers: dict[str, str] = {}
        for name, value in response.headers:
            out_headers.setdefault(name.lower(), value)
        table: dict[str, Any] = {
            "status": response.status,
            "body": response.body,
            "headers": out_headers,
        }
        if "application/json" in (response.content_type or ""):
            try:
                table["json"] = json.loads(response.body)
            except ValueError:
                pass
        return (table,)

    def _mock_request(
        self, method: Any = None, target: Any = None, spec: Any = None, *_: Any
    ) -> tuple[Any, ...]:
        verb = string_arg(method, 1, "mock_request")
        where = string_arg(target, 2, "mock_request")
        self.outbound.add(verb, where, optional_table(spec))
        return ()

    def _fire_hook(
        self, event: Any = None, table: Any = None, data: Any = None, state: Any = None, *_: Any
    ) -> Any:
        name = string_arg(event, 1, "fire_hook")
        target = string_arg(table, 2, "fire_hook")
        row = optional_table(data)
        actor = Actor.system("plugin-test")
        engine = self.manager.hooks
        if name == "before_read":
            resp, st = engine.before_read(
                str(row.get("slug", "")),
                row.get("headers") if isinstance(row.get("headers"), dict) else {},  # type: ignore[arg-type]
                str(row.get("client_ip", "127.0.0.1")),
                row.get("query") if isinstance(row.get("query"), dict) else {},  # type: ignore[arg-type]
            )
            response = None
            if resp is not None:
                response = {"status": resp.status, "headers": resp.headers, "json": resp.body}
            return (response, st)
        if name == "after_read":
            if lua_type(state) != "table":
                return (None, "after_read requires a state parameter (4th argument)")
            merged_state = from_lua(state)
            headers = engine.after_read(row, merged_state if isinstance(merged_state, dict) else {})
            return (headers,)
        try:
            hook_event = HookEvent(name)
        except ValueError:
            raise HostRaise(f'test.fire_hook: invalid hook event "{name}"') from None
        if hook_event.is_before:
            try:
                engine.before(hook_event, target, row, actor)
            except ValidationFailed as exc:
                return (exc.errors[0].message if exc.errors else exc.message,)
            except ModulaError as exc:
                return (exc.message,)
            return ()
        chain = engine.chain(name, target)
        if chain:
            engine.run_after(chain, {**row, "_table": target, "_event": name})
        return ()

    # -- running ------------------------------------------------------------------------

    def test_vm(self) -> PluginVM:
        """A fresh VM of the plugin that has not run ``init.lua``, with ``test``."""
        ctx = make_context(
            self.instance.ctx.source,
            self.options,
            self.host,
            (*standard_modules(), ("test", self._install_test_module)),
        )
        vm = PluginVM(ctx)
        vm.phase = Phase.RUNTIME
        return vm

    def run_file(self, path: Path, name_filter: str = "") -> list[TestResult]:
        vm = self.test_vm()
        label = path.name
        try:
            fn = vm.sandbox.compile(path.read_bytes(), f"test/{label}")
        except PluginLoadError as exc:
            return [TestResult(label, "(load)", failures=[Failure(exc.message, error=True)])]
        loaded = vm.execute(fn, timeout=self.timeout)
        if not loaded.ok:
            return [TestResult(label, "(load)", failures=[_error(loaded.message)])]
        exported = vm.sandbox.export(vm.sandbox.global_names())
        names = sorted(
            n for n in (exported if isinstance(exported, dict) else {}) if n.startswith("test_")
        )
        results = []
        for name in names:
            if name_filter and name_filter not in name:
                continue
            if vm.sandbox.global_type(name) != "function":
                continue
            results.append(self._run_test(vm, label, name))
        vm.close()
        return results

    def _run_test(self, vm: PluginVM, label: str, name: str) -> TestResult:
        self.failures = []
        self.outbound.clear()
        self._control[b"reset"]()
        result = TestResult(label, name)
        started = time.monotonic()
        db = self.app.db
        try:
            with db.transaction():
                setup = self._control[b"setup"]()
                ok = True
                if setup is not None:
                    outcome = vm.execute(setup, timeout=self.timeout)
                    if not outcome.ok:
                        self.failures.append(_error(f"setup error: {outcome.message}"))
                        ok = False
                if ok:
                    outcome = vm.execute(vm.sandbox.get_global(name), timeout=self.timeout)
                    if not outcome.ok:
                        self.failures.append(_error(outcome.message))
                teardown = self._control[b"teardown"]()
                if teardown is not None:
                    outcome = vm.execute(teardown, timeout=self.timeout)
                    if not outcome.ok:
                        self.failures.append(_error(f"teardown error: {outcome.message}"))
                raise _Rollback()
        except _Rollback:
            pass
        self.manager.hooks.wait_idle(self.timeout)
        result.duration_ms = (time.monotonic() - started) * 1000
        result.assertions = int(self._control[b"count"]())
        result.failures = list(self.failures)
        return result


class _Rollback(Exception):
    """Ends a test's transaction so nothing it wrote survives."""


def _error(message: str) -> Failure:
    match = _WHERE.match(message)
    return Failure(message, int(match.group(1)) if match else 0, error=True)


def discover_tests(plugin_dir: Path) -> list[Path]:
    """``<dir>/test/*.test.lua`` sorted by name; raises when there is nothing to run."""
    test_dir = plugin_dir / "test"
    if not test_dir.is_dir():
        raise PluginLoadError(f"no test/ directory found in {plugin_dir}")
    files = sorted(p for p in test_dir.glob("*.test.lua") if p.is_file())
    if not files:
        raise PluginLoadError(f"no *.test.lua files found in {test_dir}")
    return files


def run_plugin_tests(
    plugin_dir: Path,
    *,
    name_filter: str = "",
    timeout: float = 5.0,
    as_json: bool = False,
    verbose: bool = False,
    out: Out = print,
) -> int:
    """Run every test file; returns the exit code (0 passed, 1 failures, 2 load error)."""
    started = time.monotonic()
    check = validate_plugin(plugin_dir)
    if not check.ok or check.manifest is None:
        for field_name, message in check.errors:
            out(f"  ERROR   [{field_name}] {message}")
        return 2
    try:
        files = discover_tests(plugin_dir)
        harness = Harness(plugin_dir, timeout=timeout)
    except PluginLoadError as exc:
        out(f"error: {exc.message}")
        return 2
    passed = failed = 0
    try:
        if not as_json:
            out(f"{check.manifest.name} plugin tests")
        for path in files:
            if not as_json:
                out(f"  {path.name}")
            for result in harness.run_file(path, name_filter):
                if result.passed:
                    passed += 1
                else:
                    failed += 1
                if as_json:
                    out(json.dumps(result.json()))
                    continue
                mark = "✓" if result.passed else "✗"
                out(f"    {mark} {result.test} ({result.duration_ms:.0f}ms)")
                for failure in result.failures:
                    kind = "ERROR" if failure.error else "FAIL"
                    where = f" ({path.name}:{failure.line})" if failure.line else ""
                    message = failure.message if verbose else failure.message[:500]
                    out(f"        {kind}: {message}{where}")
    finally:
        harness.close()
    if not as_json:
        total = (time.monotonic() - started) * 1000
        out(f"{passed} passed, {failed} failed ({total:.0f}ms)")
    return 1 if failed else 0
