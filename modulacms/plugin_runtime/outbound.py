"""Outbound HTTP for plugins (spec §8.2): approval, breaker, rate limits, SSRF guard.

:meth:`OutboundEngine.send` never raises: it returns the Lua response table's data, or
``{"error": message}``. Checks in order: scheme (``https``; ``http`` only for literal
``127.0.0.1``/``::1`` when ``allow_local``), domain approval (exact host), the
per plugin+domain breaker (5 failures → 60 s), the per plugin+domain token bucket and the
global bucket, the request body size. The host name is resolved here and every address is
checked against the private/reserved ranges *before* connecting; the connection goes to
the vetted address (TLS still verifies the host name), so DNS rebinding cannot slip a
private address in between. Redirects are not followed. Responses larger than the limit
are refused.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from modulacms.plugin_runtime.metrics import MetricsRegistry
from modulacms.plugin_runtime.options import RuntimeOptions

log = logging.getLogger(__name__)

USER_AGENT = "ModulaCMS-Plugin/1.0"
METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS")
_LOOPBACK = [ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128")]
_BLOCKED = [
    ipaddress.ip_network(n)
    for n in (
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "169.254.0.0/16",
        "fc00::/7",
        "fe80::/10",
        "0.0.0.0/8",
        "100.64.0.0/10",
        "192.0.0.0/24",
        "198.18.0.0/15",
        "224.0.0.0/4",
        "240.0.0.0/4",
        "ff00::/8",
        "::/128",
    )
]

Resolver = Callable[..., list[tuple[Any, ...]]]


class OutboundError(Exception):
    """A send that failed; ``message`` is what the plugin sees, ``failure`` counts for
    the domain breaker."""

    def __init__(self, message: str, *, failure: bool = True) -> None:
        super().__init__(message)
        self.message = message
        self.failure = failure


@dataclass
class _Bucket:
    rate: float
    burst: float
    tokens: float
    stamp: float

    def take(self, now: float) -> bool:
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


@dataclass
class _DomainBreaker:
    failures: int = 0
    last_failure: float = 0.0


@dataclass(frozen=True, slots=True)
class OutboundRequest:
    """A checked request (what the Lua side asked for)."""

    plugin: str
    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes | None
    timeout: float
    parse_json: bool
    request_id: str | None = None


def blocked_address(address: str, allow_local: bool) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if any(ip in net for net in _LOOPBACK):
        return not allow_local
    return any(ip.version == net.version and ip in net for net in _BLOCKED)


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self.timeout)
        context = self._context  # type: ignore[attr-defined]
        self.sock = context.wrap_socket(raw, server_hostname=self.host)


class OutboundEngine:
    """Shared by every plugin of a manager; ``approved(plugin, host)`` checks approval."""

    def __init__(
        self,
        options: RuntimeOptions,
        metrics: MetricsRegistry | None = None,
        *,
        approved: Callable[[str, str], bool] | None = None,
        resolver: Resolver = socket.getaddrinfo,
    ) -> None:
        self.options = options
        self.metrics = metrics or MetricsRegistry()
        self.approved = approved or (lambda plugin, host: False)
        self.resolver = resolver
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self._breakers: dict[tuple[str, str], _DomainBreaker] = {}
        per_min = options.request_global_rate
        self._global: _Bucket | None = None
        if per_min != 0:
            rate = (600 if per_min < 0 else per_min) / 60
            self._global = _Bucket(rate, max(1.0, min(rate, 5.0)), max(1.0, rate), time.monotonic())
        self.closed = False

    # -- gates --------------------------------------------------------------------------

    def _check_scheme(self, scheme: str, host: str) -> None:
        if scheme == "https":
            return
        if scheme == "http":
            if self.options.request_allow_local and host in ("127.0.0.1", "::1"):
                return
            raise OutboundError(
                "HTTP scheme requires HTTPS (plain http is only allowed for 127.0.0.1 "
                "with plugin_request_allow_local)",
                failure=False,
            )
        raise OutboundError(
            f'unsupported URL scheme "{scheme}" (only https is allowed)', failure=False
        )

    def _breaker_open(self, key: tuple[str, str], now: float) -> bool:
        with self._lock:
            state = self._breakers.get(key)
            return (
                state is not None
                and state.failures >= self.options.request_cb_failures
                and now - state.last_failure < self.options.request_cb_reset
            )

    def _record(self, key: tuple[str, str], failure: bool) -> None:
        with self._lock:
            state = self._breakers.setdefault(key, _DomainBreaker())
            if failure:
                state.failures += 1
                state.last_failure = time.monotonic()
            else:
                state.failures = 0

    def _rate_ok(self, key: tuple[str, str], now: float) -> bool:
        per_min = max(1, self.options.request_rate_limit)
        rate = per_min / 60
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                burst = max(1.0, min(rate, 5.0))
                bucket = self._buckets[key] = _Bucket(rate, burst, burst, now)
            return bucket.take(now)

    def _global_ok(self, now: float) -> bool:
        if self._global is None:
            return True
        with self._lock:
            return self._global.take(now)

    # -- sending ------------------------------------------------------------------------

    def send(self, request: OutboundRequest) -> dict[str, Any]:
        parts = urlsplit(request.url)
        host = (parts.hostname or "").lower()
        started = time.monotonic()
        status = 0
        try:
            self._check_scheme(parts.scheme.lower(), host)
            if not self.approved(request.plugin, host):
                raise OutboundError(f"domain not approved: {host}", failure=False)
            key = (request.plugin, host)
            now = time.monotonic()
            if self._breaker_open(key, now):
                raise OutboundError(f"circuit breaker open for domain: {host}", failure=False)
            if not self._rate_ok(key, now):
                raise OutboundError(f"rate limit exceeded for domain: {host}", failure=False)
            if not self._global_ok(now):
                raise OutboundError("global outbound request rate limit exceeded", failure=False)
            limit = self.options.request_max_body
            if request.body is not None and len(request.body) > limit:
                raise OutboundError(
                    f"request body exceeds maximum size ({limit} bytes)", failure=False
                )
            try:
                response = self._exchange(request, parts, host)
            except OutboundError as exc:
                if exc.failure:
                    self._record(key, True)
                raise
            status = int(response["status"])
            self._record(key, status >= 500)
            return response
        except OutboundError as exc:
            return {"error": exc.message}
        finally:
            labels = {
                "plugin": request.plugin,
                "method": request.method,
                "domain": host,
                "status": status,
            }
            self.metrics.inc("plugin.outbound.requests", labels)
            self.metrics.observe(
                "plugin.outbound.duration_ms", (time.monotonic() - started) * 1000, labels
            )

    def _address(self, host: str, port: int) -> str:
        try:
            infos = self.resolver(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError):
            raise OutboundError(f"dns lookup failed: {host}") from None
        addresses = [str(info[4][0]) for info in infos]
        if not addresses:
            raise OutboundError(f"dns lookup failed: {host}")
        allow_local = self.options.request_allow_local
        if any(blocked_address(a, allow_local) for a in addresses):
            raise OutboundError("request to private/reserved IP address blocked")
        return addresses[0]

    def _exchange(self, request: OutboundRequest, parts: Any, host: str) -> dict[str, Any]:
        secure = parts.scheme.lower() == "https"
        port = parts.port or (443 if secure else 80)
        address = self._address(host, port)
        timeout = max(0.05, request.timeout)
        conn_type = _PinnedHTTPSConnection if secure else _PinnedHTTPConnection
        conn = conn_type(host, port, address, timeout)
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        headers = {"User-Agent": USER_AGENT, **dict(request.headers)}
        if request.request_id:
            headers.setdefault("X-Request-ID", request.request_id)
        limit = self.options.request_max_response
        try:
            conn.request(request.method, target, body=request.body, headers=headers)
            resp = conn.getresponse()
            body = resp.read(limit + 1)
        except TimeoutError:
            raise OutboundError(f"request timed out after {timeout:g}s") from None
        except ConnectionRefusedError:
            raise OutboundError(f"connection refused: {host}") from None
        except ssl.SSLError:
            raise OutboundError(f"tls handshake failed: {host}") from None
        except (OSError, http.client.HTTPException) as exc:
            raise OutboundError(f"request failed: {exc}") from None
        finally:
            conn.close()
        if len(body) > limit:
            raise OutboundError(f"response exceeded maximum size ({limit} bytes)")
        out_headers: dict[str, str] = {}
        for name, value in resp.getheaders():
            out_headers.setdefault(name.lower(), value)
        result: dict[str, Any] = {"status": resp.status, "body": body, "headers": out_headers}
        content_type = out_headers.get("content-type", "")
        if request.parse_json and content_type.lower().startswith("application/json"):
            try:
                result["json"] = json.loads(body)
            except ValueError:
                pass
        return result
