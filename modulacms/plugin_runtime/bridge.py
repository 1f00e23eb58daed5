"""Serving plugin HTTP routes (spec §6.2–§6.4), independent of the HTTP server.

The HTTP layer hands every request under ``/api/v1/plugins/`` to
:meth:`PluginBridge.handle` as a :class:`BridgeRequest` (raw path, headers, body, client
address, whether a CMS user is signed in) and writes back the :class:`BridgeResponse`.
Checks run in the spec's order: route known and approved (else a uniform 404, no
enumeration), authentication for non-public routes (401), per-address rate limit (429),
shutdown (503), body size (400), plugin running (503), circuit breaker (503), VM checkout
(503 ``POOL_EXHAUSTED``). Then the middleware chain and the handler run in one checkout
with the plugin's op budget and timeout; Lua errors are 500 ``HANDLER_ERROR`` (the Lua
message is logged, never sent), timeouts 504 ``HANDLER_TIMEOUT``; both count against the
plugin's circuit breaker. Response headers that could change security properties
(``set-cookie``, CORS, framing) are dropped, as are names or values with control
characters. Every response carries ``nosniff``, ``DENY`` and ``no-store``.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from modulacms.errors import PluginError
from modulacms.plugin_runtime import gojson
from modulacms.plugin_runtime.api.json import nesting_within
from modulacms.plugin_runtime.convert import lua_type
from modulacms.plugin_runtime.pool import PoolClosed, PoolExhausted
from modulacms.plugin_runtime.routes import RoutePattern, best_match, split_plugin_path
from modulacms.plugin_runtime.sandbox import ExecResult, ExecStatus
from modulacms.plugin_runtime.vm import RouteRegistration

if TYPE_CHECKING:
    from modulacms.plugin_runtime.manager import PluginManager

log = logging.getLogger(__name__)

BLOCKED_HEADERS = frozenset(
    {
        "access-control-allow-origin",
        "access-control-allow-credentials",
        "access-control-allow-methods",
        "access-control-allow-headers",
        "access-control-expose-headers",
        "set-cookie",
        "transfer-encoding",
        "content-length",
        "host",
        "connection",
        "cache-control",
        # framing and sniffing are fixed by the bridge itself
        "x-content-type-options",
        "x-frame-options",
        "content-security-policy",
        "strict-transport-security",
    }
)
SECURITY_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Cache-Control", "no-store"),
)
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_BAD_VALUE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class BridgeRequest:
    """One plugin request as the HTTP layer saw it."""

    method: str
    path: str
    query_string: str = ""
    headers: Iterable[tuple[str, str]] = ()
    body: bytes = b""
    client_ip: str = ""
    authenticated: bool = False
    request_id: str | None = None
    authenticate: Callable[[], bool] | None = None
    """Called (once) only for non-public routes, when ``authenticated`` is False; lets
    the HTTP layer skip credential checks for public routes."""

    def signed_in(self) -> bool:
        if self.authenticated:
            return True
        return self.authenticate() if self.authenticate is not None else False


@dataclass(slots=True)
class BridgeResponse:
    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)

    @property
    def content_type(self) -> str | None:
        for name, value in self.headers:
            if name.lower() == "content-type":
                return value
        return None


def error_response(
    status: int, code: str, message: str, request_id: str | None = None, **extra: str
) -> BridgeResponse:
    error: dict[str, str] = {"code": code, "message": message}
    if request_id:
        error["request_id"] = request_id
    body = gojson.encode({"error": error}).encode()
    headers = [("Content-Type", "application/json"), *SECURITY_HEADERS]
    headers += [(k.replace("_", "-"), v) for k, v in extra.items()]
    return BridgeResponse(status, body, headers)


def _not_found(rid: str | None) -> BridgeResponse:
    # one body for unknown and unapproved routes alike: no enumeration
    return error_response(
        404, "ROUTE_NOT_FOUND", "the requested plugin endpoint does not exist", rid
    )


class _IpLimiter:
    """Token bucket per client address; idle entries are purged."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate = rate
        self.burst = burst
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}
        self._last_purge = time.monotonic()

    def allow(self, key: str) -> bool:
        now = time.monotonic()
        with self._lock:
            if now - self._last_purge > 300:
                self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < 600}
                self._last_purge = now
            tokens, stamp = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - stamp) * self.rate)
            if tokens < 1:
                self._buckets[key] = (tokens, now)
                return False
            self._buckets[key] = (tokens - 1, now)
            return True


class PluginBridge:
    """Routes of every running plugin of one :class:`PluginManager`."""

    def __init__(self, manager: PluginManager) -> None:
        self.manager = manager
        self.options = manager.options
        self.metrics = manager.metrics
        rate = float(self.options.rate_limit)
        self.limiter = _IpLimiter(rate, rate)
        self.closing = False
        self._inflight = 0
        self._idle = threading.Condition()
        self._patterns: dict[tuple[int, str], list[tuple[RoutePattern, Any]]] = {}

    # -- routing ------------------------------------------------------------------------

    def _routes(self, instance: Any, method: str) -> list[tuple[RoutePattern, Any]]:
        key = (id(instance.registered), method)
        cached = self._patterns.get(key)
        if cached is None:
            cached = [
                (RoutePattern.parse(r.path), r)
                for r in instance.registered.routes.values()
                if r.method == method or (method == "HEAD" and r.method == "GET")
            ]
            if len(self._patterns) > 1000:
                self._patterns.clear()
            self._patterns[key] = cached
        return cached

    def match(self, method: str, path: str) -> tuple[Any, RouteRegistration, dict[str, str]] | None:
        split = split_plugin_path(path)
        if split is None:
            return None
        name, sub = split
        instance = self.manager.instance(name)
        if instance is None:
            return None
        found = best_match(self._routes(instance, method), method, sub)
        if found is None:
            return None
        route, params = found
        assert isinstance(route, RouteRegistration)
        return instance, route, params

    def approved_routes(self) -> list[tuple[str, RouteRegistration]]:
        snapshot = self.manager.approvals_snapshot
        out = []
        for name in self.manager.names():
            instance = self.manager.instance(name)
            if instance is None:
                continue
            for route in instance.registered.routes.values():
                if snapshot.route(name, route.method, route.path):
                    out.append((name, route))
        return out

    # -- serving ------------------------------------------------------------------------

    def handle(self, request: BridgeRequest) -> BridgeResponse:
        rid = request.request_id
        matched = self.match(request.method, request.path)
        if matched is None:
            return _not_found(rid)
        instance, route, params = matched
        if not self.manager.approvals_snapshot.route(instance.name, route.method, route.path):
            return _not_found(rid)
        if not route.public and not request.signed_in():
            return error_response(401, "UNAUTHORIZED", "authentication required", rid)
        if not self.limiter.allow(request.client_ip):
            return error_response(429, "RATE_LIMITED", "rate limit exceeded", rid, Retry_After="1")
        if self.closing:
            return error_response(503, "PLUGIN_UNAVAILABLE", "plugin system is shutting down", rid)
        if len(request.body) > self.options.max_request_body:
            return error_response(400, "INVALID_REQUEST", "request body too large", rid)
        instance = self.manager.running(instance.name)
        if instance is None or instance.pool is None:
            return error_response(503, "PLUGIN_UNAVAILABLE", "plugin is not running", rid)
        if not instance.breaker.allow():
            return error_response(
                503,
                "CIRCUIT_BREAKER_OPEN",
                "plugin is temporarily disabled due to repeated failures",
                rid,
            )
        try:
            vm = instance.pool.acquire()
        except PoolExhausted:
            return error_response(
                503,
                "POOL_EXHAUSTED",
                "all plugin VMs are busy, try again shortly",
                rid,
                Retry_After="1",
            )
        except PoolClosed:
            return error_response(503, "PLUGIN_UNAVAILABLE", "failed to acquire plugin VM", rid)
        with self._idle:
            self._inflight += 1
        try:
            return self._serve(instance, vm, route, params, request)
        finally:
            instance.pool.release(vm)
            with self._idle:
                self._inflight -= 1
                self._idle.notify_all()

    def _request_table(self, request: BridgeRequest, params: dict[str, str]) -> dict[str, Any]:
        headers: dict[str, str] = {}
        for name, value in request.headers:
            headers.setdefault(name.lower(), value)
        query: dict[str, str] = {}
        for name, value in parse_qsl(request.query_string, keep_blank_values=True):
            query.setdefault(name, value)
        table: dict[str, Any] = {
            "method": request.method,
            "path": request.path,
            "body": request.body,
            "client_ip": request.client_ip,
            "headers": headers,
            "query": query,
            "params": {k: v for k, v in params.items() if v},
        }
        content_type = headers.get("content-type", "").lower()
        if content_type.startswith("application/json") and request.body:
            try:
                decoded = gojson.decode(request.body)
            except (ValueError, RecursionError):
                decoded = None
            if decoded is not None and nesting_within(decoded, self.options.limits.max_depth):
                table["json"] = decoded
        return table

    def _serve(
        self,
        instance: Any,
        vm: Any,
        route: RouteRegistration,
        params: dict[str, str],
        request: BridgeRequest,
    ) -> BridgeResponse:
        rid = request.request_id
        labels = {"plugin": instance.name, "method": request.method}
        started = time.monotonic()
        with vm.checkout(
            timeout=self.options.timeout,
            ops=self.options.max_ops,
            request_id=rid,
            label=route.key,
        ):
            req = vm.sandbox.to_lua(self._request_table(request, params))
            for middleware in vm.registered.middleware:
                result = vm.run(middleware, req)
                if not result.ok:
                    return self._failure(instance, result, labels, started, rid, breaker=False)
                if _is_table(result):
                    response = self._convert(vm, instance, result)
                    if response is None:
                        return error_response(500, "HANDLER_ERROR", "internal plugin error", rid)
                    return self._write(instance, response, labels, started, rid)
            current = vm.registered.routes.get(route.key)
            if current is None:
                return error_response(500, "HANDLER_ERROR", "internal plugin error", rid)
            result = vm.run(current.handler, req)
            if not result.ok:
                return self._failure(instance, result, labels, started, rid, breaker=True)
            if not _is_table(result):
                log.warning("plugin %s %s returned no table", instance.name, route.key)
                return error_response(500, "HANDLER_ERROR", "internal plugin error", rid)
            response = self._convert(vm, instance, result)
            if response is None:
                instance.breaker.record_failure("response could not be converted")
                return error_response(500, "HANDLER_ERROR", "internal plugin error", rid)
        instance.breaker.record_success()
        return self._write(instance, response, labels, started, rid)

    @staticmethod
    def _convert(vm: Any, instance: Any, result: ExecResult) -> Any:
        try:
            return vm.sandbox.convert(result.first)
        except PluginError as exc:
            log.warning("plugin %s returned an unusable response: %s", instance.name, exc)
            return None

    def _failure(
        self,
        instance: Any,
        result: ExecResult,
        labels: dict[str, str],
        started: float,
        rid: str | None,
        *,
        breaker: bool,
    ) -> BridgeResponse:
        timed_out = result.status in (ExecStatus.TIMEOUT, ExecStatus.BUDGET)
        log.warning("plugin %s handler failed: %s", instance.name, result.message)
        kind = "timeout" if timed_out else result.status.value
        self.metrics.inc("plugin.errors", {"plugin": instance.name, "error_type": kind})
        if breaker:
            instance.breaker.record_failure(result.message)
            status = 504 if timed_out else 500
            self._count(labels, str(status), started)
        if timed_out:
            return error_response(504, "HANDLER_TIMEOUT", "plugin execution timed out", rid)
        return error_response(500, "HANDLER_ERROR", "internal plugin error", rid)

    def _count(self, labels: dict[str, str], status: str, started: float) -> None:
        tagged = {**labels, "status": status}
        self.metrics.inc("plugin.http.requests", tagged)
        self.metrics.observe("plugin.http.duration_ms", (time.monotonic() - started) * 1000, tagged)

    def _write(
        self,
        instance: Any,
        response: Any,
        labels: dict[str, str],
        started: float,
        rid: str | None,
    ) -> BridgeResponse:
        if not isinstance(response, dict):
            response = {}
        status = response.get("status")
        code = (
            int(status) if isinstance(status, int | float) and not isinstance(status, bool) else 200
        )
        if not 100 <= code <= 599:
            code = 200
        headers: list[tuple[str, str]] = []
        raw_headers = response.get("headers")
        if isinstance(raw_headers, dict):
            for name, value in sorted(raw_headers.items()):
                if not isinstance(value, str):
                    continue
                if name.lower() in BLOCKED_HEADERS:
                    log.warning("plugin %s: dropped blocked header %s", instance.name, name)
                    continue
                if not _HEADER_NAME.fullmatch(name) or _BAD_VALUE.search(value):
                    log.warning("plugin %s: dropped malformed header %r", instance.name, name)
                    continue
                headers.append((name, value))
        content_type = next((v for k, v in headers if k.lower() == "content-type"), None)
        if response.get("json") is not None:
            if response.get("body") is not None:
                log.warning("plugin %s: response has both json and body; using json", instance.name)
            try:
                body = gojson.encode_converted(response["json"]).encode("utf-8")
            except ValueError:
                return error_response(500, "HANDLER_ERROR", "internal plugin error", rid)
            headers = [(k, v) for k, v in headers if k.lower() != "content-type"]
            headers.append(("Content-Type", "application/json"))
        else:
            raw = response.get("body")
            body = (
                raw.encode("utf-8")
                if isinstance(raw, str)
                else raw
                if isinstance(raw, bytes)
                else b""
            )
            if content_type is None:
                headers.append(("Content-Type", "text/plain; charset=utf-8"))
        if len(body) > self.options.max_response_body:
            return error_response(
                500, "RESPONSE_TOO_LARGE", "response body exceeds size limit", rid
            )
        self._count(labels, "200", started)
        return BridgeResponse(code, body, [*headers, *SECURITY_HEADERS])

    # -- lifecycle ----------------------------------------------------------------------

    def close(self, timeout: float = 10.0) -> None:
        """Refuse new requests (503) and wait for the ones in flight."""
        self.closing = True
        end = time.monotonic() + timeout
        with self._idle:
            while self._inflight > 0:
                left = end - time.monotonic()
                if left <= 0:
                    break
                self._idle.wait(left)


def _is_table(result: ExecResult) -> bool:
    return bool(result.values) and lua_type(result.first) == "table"
