"""Plugin HTTP routes through the bridge (spec §6, §16 HTTP fixtures)."""

from __future__ import annotations

import json
import shutil
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from plugin_helpers import PLUGINS

from modulacms.plugin_runtime.approvals import MemoryApprovals
from modulacms.plugin_runtime.bridge import BridgeRequest, BridgeResponse, PluginBridge
from modulacms.plugin_runtime.manager import PluginManager
from modulacms.plugin_runtime.options import RuntimeOptions

HTTP_FIXTURES = (
    "http_blocked_headers",
    "http_error_plugin",
    "http_middleware_plugin",
    "http_params_plugin",
    "http_plugin",
    "http_public_plugin",
    "http_timeout_plugin",
    "http_test_plugin",
    "attack_headers",
)


def make_bridge(
    tmp_path: Path, *names: str, approve: bool = True, **options: Any
) -> tuple[PluginManager, PluginBridge]:
    root = tmp_path / "plugins"
    root.mkdir(exist_ok=True)
    for name in names:
        shutil.copytree(PLUGINS / name, root / name)
    opts = RuntimeOptions(**{"max_vms": 2, "timeout": 5.0, **options})
    manager = PluginManager(root, opts, approvals=MemoryApprovals(auto_approve=approve))
    manager.load_all()
    return manager, PluginBridge(manager)


@pytest.fixture(scope="module")
def bridge(tmp_path_factory: pytest.TempPathFactory) -> PluginBridge:
    _, b = make_bridge(tmp_path_factory.mktemp("bridge"), *HTTP_FIXTURES, timeout=1.0)
    return b


def call(
    bridge: PluginBridge,
    method: str,
    path: str,
    *,
    auth: bool = False,
    body: bytes = b"",
    headers: tuple[tuple[str, str], ...] = (),
    ip: str = "127.0.0.1",
) -> BridgeResponse:
    query = ""
    if "?" in path:
        path, query = path.split("?", 1)
    return bridge.handle(
        BridgeRequest(
            method, "/api/v1/plugins" + path, query, headers, body, ip, auth, request_id="rid-1"
        )
    )


def data(response: BridgeResponse) -> Any:
    return json.loads(response.body)


def header(response: BridgeResponse, name: str) -> str | None:
    return next((v for k, v in response.headers if k.lower() == name.lower()), None)


def test_blocked_headers_are_dropped(bridge: PluginBridge) -> None:
    r = call(bridge, "GET", "/http_blocked_headers/headers")
    assert r.status == 200
    assert header(r, "Set-Cookie") is None and header(r, "Access-Control-Allow-Origin") is None
    assert header(r, "X-Custom") == "allowed" and header(r, "X-Plugin-Id") == "test"
    assert data(r) == {"ok": True}
    assert header(r, "X-Content-Type-Options") == "nosniff"
    assert header(r, "X-Frame-Options") == "DENY" and header(r, "Cache-Control") == "no-store"


def test_handler_errors_do_not_leak(bridge: PluginBridge) -> None:
    r = call(bridge, "GET", "/http_error_plugin/fail")
    assert r.status == 500
    assert data(r) == {
        "error": {
            "code": "HANDLER_ERROR",
            "message": "internal plugin error",
            "request_id": "rid-1",
        }
    }
    assert b"deliberate" not in r.body


def test_middleware_enriches_the_request(bridge: PluginBridge) -> None:
    r = call(bridge, "GET", "/http_middleware_plugin/check")
    assert r.status == 200 and r.body == b'{"custom_field":"enriched_value","request_count":1}'


@pytest.mark.parametrize("item", ["abc123", "42", "01HN8Z3QRXK9VBYN1234ABCDE", "my-item-name"])
def test_path_parameters(bridge: PluginBridge, item: str) -> None:
    r = call(bridge, "GET", f"/http_params_plugin/items/{item}", auth=True)
    assert r.status == 200 and data(r) == {"id": item, "method": "GET"}


def test_authentication_is_required_for_non_public_routes(bridge: PluginBridge) -> None:
    r = call(bridge, "GET", "/http_params_plugin/items/1")
    assert r.status == 401 and data(r)["error"]["code"] == "UNAUTHORIZED"
    r = call(bridge, "GET", "/http_public_plugin/status")
    assert r.status == 200 and data(r) == {"status": "ok"}


def test_tasks_plugin_keeps_state_per_vm(bridge: PluginBridge) -> None:
    r = call(bridge, "GET", "/http_plugin/tasks", auth=True)
    assert r.status == 200 and data(r)["processed_by"] == "http_plugin_middleware"
    assert "tasks" in data(r)
    body = json.dumps({"title": "Write integration tests"}).encode()
    r = call(
        bridge,
        "POST",
        "/http_plugin/tasks",
        auth=True,
        body=body,
        headers=(("Content-Type", "application/json"),),
    )
    assert r.status == 201
    assert data(r)["title"] == "Write integration tests" and "id" in data(r)


def test_route_count_and_unknown_routes(bridge: PluginBridge) -> None:
    names = {"http_plugin", "http_public_plugin", "http_params_plugin"}
    routes = [r for n, r in bridge.approved_routes() if n in names]
    assert len(routes) == 5
    for path in ("/nope/x", "/http_plugin/missing", "/http_test/hello"):
        r = call(bridge, "GET", path, auth=True)
        assert r.status == 404 and data(r)["error"]["code"] == "ROUTE_NOT_FOUND"
    assert bridge.manager.instance("http_test") is None  # name must equal directory


def test_handler_timeout_is_504(bridge: PluginBridge) -> None:
    started = time.monotonic()
    r = call(bridge, "GET", "/http_timeout_plugin/hang")
    assert r.status == 504 and data(r)["error"]["code"] == "HANDLER_TIMEOUT"
    assert time.monotonic() - started < 3


def test_header_injection_and_bad_responses(bridge: PluginBridge) -> None:
    r = call(bridge, "GET", "/attack_headers/inject")
    names = [k.lower() for k, _ in r.headers]
    assert r.status == 200 and r.body == b"hello"
    assert "set-cookie" not in names and "content-length" not in names
    assert not any("\r" in k or "\n" in k or "\r" in v or "\n" in v for k, v in r.headers)
    assert header(r, "X-Fine") == "ok" and header(r, "X-Number") is None
    assert header(r, "X-Frame-Options") == "DENY"
    r = call(bridge, "GET", "/attack_headers/html")
    assert header(r, "Content-Type") == "text/plain; charset=utf-8"
    r = call(bridge, "GET", "/attack_headers/huge")
    assert r.status == 500 and data(r)["error"]["code"] == "RESPONSE_TOO_LARGE"
    assert call(bridge, "GET", "/attack_headers/status").status == 200
    assert call(bridge, "GET", "/attack_headers/weird_status").status == 200
    for path in ("/attack_headers/not_table", "/attack_headers/nan"):
        r = call(bridge, "GET", path)
        assert r.status == 500 and data(r)["error"]["code"] == "HANDLER_ERROR"


def test_unapproved_routes_are_404_until_approved(tmp_path: Path) -> None:
    manager, bridge = make_bridge(tmp_path, "http_public_plugin", approve=False)
    assert call(bridge, "GET", "/http_public_plugin/status").status == 404
    approvals = manager.approvals
    assert isinstance(approvals, MemoryApprovals)
    approvals.approve("route", ("http_public_plugin", "GET", "/status"))
    manager.refresh_approvals()
    assert call(bridge, "GET", "/http_public_plugin/status").status == 200


def test_breaker_opens_after_repeated_handler_failures(tmp_path: Path) -> None:
    _, bridge = make_bridge(tmp_path, "http_error_plugin", max_failures=3)
    for _ in range(3):
        assert call(bridge, "GET", "/http_error_plugin/fail").status == 500
    r = call(bridge, "GET", "/http_error_plugin/fail")
    assert r.status == 503 and data(r)["error"]["code"] == "CIRCUIT_BREAKER_OPEN"
    assert (
        bridge.metrics.counter("plugin.circuit_breaker.trip", {"plugin": "http_error_plugin"}) == 1
    )


def test_rate_limit_per_client_address(tmp_path: Path) -> None:
    _, bridge = make_bridge(tmp_path, "http_public_plugin", rate_limit=5)
    statuses = [
        call(bridge, "GET", "/http_public_plugin/status", ip="10.1.1.1").status for _ in range(8)
    ]
    assert statuses[:5] == [200] * 5 and statuses[-1] == 429
    assert call(bridge, "GET", "/http_public_plugin/status", ip="10.1.1.2").status == 200


def test_pool_exhaustion_is_503(tmp_path: Path) -> None:
    manager, bridge = make_bridge(tmp_path, "http_timeout_plugin", max_vms=1, timeout=0.5)
    results: list[int] = []
    worker = threading.Thread(
        target=lambda: results.append(call(bridge, "GET", "/http_timeout_plugin/hang").status)
    )
    worker.start()
    time.sleep(0.1)
    r = call(bridge, "GET", "/http_timeout_plugin/hang")
    worker.join()
    assert r.status == 503 and data(r)["error"]["code"] == "POOL_EXHAUSTED"
    assert header(r, "Retry-After") == "1"
    assert results == [504]


def test_request_body_limit_and_shutdown(tmp_path: Path) -> None:
    _, bridge = make_bridge(tmp_path, "http_public_plugin", max_request_body=10)
    r = call(bridge, "POST", "/http_public_plugin/webhook", body=b"x" * 11)
    assert r.status == 400 and data(r)["error"]["message"] == "request body too large"
    r = call(
        bridge,
        "POST",
        "/http_public_plugin/webhook",
        body=b'{"a":1}',
        headers=(("Content-Type", "application/json"),),
    )
    assert data(r) == {"received": True, "body": {"a": 1}}
    bridge.close()
    r = call(bridge, "GET", "/http_public_plugin/status")
    assert r.status == 503 and data(r)["error"]["message"] == "plugin system is shutting down"


def test_metrics_are_recorded(bridge: PluginBridge) -> None:
    call(bridge, "GET", "/http_public_plugin/status")
    text = bridge.metrics.render()
    assert (
        'plugin_http_requests_total{method="GET",plugin="http_public_plugin",status="200"}' in text
    )
