"""Outbound HTTP from plugins against a real server on 127.0.0.1 (spec §8)."""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from plugin_helpers import PLUGINS, call_global, values

from modulacms.plugin_runtime.approvals import MemoryApprovals
from modulacms.plugin_runtime.manager import PluginManager
from modulacms.plugin_runtime.options import RuntimeOptions
from modulacms.plugin_runtime.outbound import OutboundEngine, blocked_address
from modulacms.plugin_runtime.services import HostServices


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        return None

    def do_GET(self) -> None:
        if self.path == "/big":
            body = b"x" * 3000
        elif self.path == "/fail":
            self.send_response(503)
            self.end_headers()
            return
        else:
            body = json.dumps({"path": self.path, "ua": self.headers["User-Agent"]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        data = self.rfile.read(length)
        body = json.dumps({"got": json.loads(data), "ct": self.headers["Content-Type"]}).encode()
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def manager(tmp_path: Path, *, approve: bool = True, **options: object) -> PluginManager:
    root = tmp_path / "plugins"
    root.mkdir(parents=True)
    shutil.copytree(PLUGINS / "outbound_plugin", root / "outbound_plugin")
    opts = RuntimeOptions(**{"max_vms": 1, **options})  # type: ignore[arg-type]
    services = HostServices()
    approvals = MemoryApprovals(auto_approve=approve)
    mgr = PluginManager(root, opts, services, approvals)
    services.outbound = OutboundEngine(
        opts, services.metrics, approved=lambda p, h: mgr.approvals_snapshot.domain(p, h)
    )
    mgr.load_all()
    return mgr


def test_send_get_and_post_json(tmp_path: Path, server: str) -> None:
    mgr = manager(tmp_path, request_allow_local=True, request_rate_limit=6000)
    instance = mgr.instances["outbound_plugin"]
    assert instance.registered.domains == {
        "127.0.0.1": "local test server",
        "10.0.0.1": "",
        "api.example.com": "",
    }
    response = values(call_global(instance, "fetch", f"{server}/hello?x=1", {"parse_json": True}))[
        0
    ]
    assert response["status"] == 200
    assert response["json"] == {"path": "/hello?x=1", "ua": "ModulaCMS-Plugin/1.0"}
    assert response["headers"]["content-type"] == "application/json"
    posted = values(call_global(instance, "post_json", f"{server}/p", {"a": [1, 2]}))[0]
    assert posted["status"] == 201
    assert posted["json"] == {"got": {"a": [1, 2]}, "ct": "application/json"}
    assert mgr.metrics.counter_total("plugin.outbound.requests", plugin="outbound_plugin") == 2


def test_checks_return_error_tables(tmp_path: Path, server: str) -> None:
    mgr = manager(tmp_path, request_allow_local=False, request_rate_limit=6000)
    instance = mgr.instances["outbound_plugin"]
    err = values(call_global(instance, "fetch", f"{server}/x"))[0]["error"]
    assert err.startswith("HTTP scheme requires HTTPS")
    err = values(call_global(instance, "fetch", "ftp://api.example.com/"))[0]["error"]
    assert err == 'unsupported URL scheme "ftp" (only https is allowed)'
    err = values(call_global(instance, "fetch", "https://other.example.com/"))[0]["error"]
    assert err == "domain not approved: other.example.com"
    # SSRF: approved hosts that are private or loopback addresses are never dialled
    for url in ("https://10.0.0.1/", "https://127.0.0.1/"):
        err = values(call_global(instance, "fetch", url))[0]["error"]
        assert err == "request to private/reserved IP address blocked"


def test_limits_breaker_and_rate(tmp_path: Path, server: str) -> None:
    mgr = manager(
        tmp_path,
        request_allow_local=True,
        request_rate_limit=6000,
        request_max_response=1000,
        request_cb_failures=2,
    )
    instance = mgr.instances["outbound_plugin"]
    err = values(call_global(instance, "fetch", f"{server}/big"))[0]["error"]
    assert err == "response exceeded maximum size (1000 bytes)"
    assert values(call_global(instance, "fetch", f"{server}/fail"))[0]["status"] == 503
    err = values(call_global(instance, "fetch", f"{server}/x"))[0]["error"]
    assert err == "circuit breaker open for domain: 127.0.0.1"
    slow = manager(tmp_path / "2", request_allow_local=True, request_rate_limit=60)
    inst = slow.instances["outbound_plugin"]
    assert values(call_global(inst, "fetch", f"{server}/a"))[0]["status"] == 200
    err = values(call_global(inst, "fetch", f"{server}/b"))[0]["error"]
    assert err == "rate limit exceeded for domain: 127.0.0.1"


def test_programming_errors_raise_and_phases_apply(tmp_path: Path) -> None:
    mgr = manager(tmp_path)
    instance = mgr.instances["outbound_plugin"]
    out = values(call_global(instance, "misuse"))[0]
    assert "invalid method" in out[0]
    assert "credentials" in out[1]
    assert "scheme and a host" in out[2]
    assert "either body or json" in out[3]
    ok, err = values(call_global(instance, "late_register"))
    assert ok is False and "must be called at module scope" in err
    assert instance.pool is not None
    init_vm_errors = [
        vm.sandbox.export(vm.sandbox.get_global("init_error")) for vm in instance.pool.idle_vms()
    ]
    assert any(e and "cannot be called inside on_init()" in e for e in init_vm_errors)


def test_unapproved_domains_stay_blocked(tmp_path: Path, server: str) -> None:
    mgr = manager(tmp_path, approve=False, request_allow_local=True)
    instance = mgr.instances["outbound_plugin"]
    err = values(call_global(instance, "fetch", f"{server}/x"))[0]["error"]
    assert err == "domain not approved: 127.0.0.1"


@pytest.mark.parametrize(
    ("address", "blocked"),
    [
        ("10.1.2.3", True),
        ("172.20.0.1", True),
        ("192.168.1.1", True),
        ("169.254.169.254", True),
        ("100.64.0.1", True),
        ("::ffff:10.0.0.1", True),
        ("fe80::1", True),
        ("fd00::1", True),
        ("0.0.0.0", True),
        ("127.0.0.1", True),
        ("93.184.216.34", False),
        ("2606:2800:220:1::1", False),
    ],
)
def test_ssrf_ranges(address: str, blocked: bool) -> None:
    assert blocked_address(address, allow_local=False) is blocked
