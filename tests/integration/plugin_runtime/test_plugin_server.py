"""Plugins behind the real HTTP server on 127.0.0.1: routes, hooks over the content API,
the admin plugin API and the Prometheus metrics."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from plugin_helpers import PLUGINS

from modulacms.app import App, build_app
from modulacms.http.handlers.plugins import plugin_api
from modulacms.http.options import ServerOptions
from modulacms.http.runner import build_server
from modulacms.http.testing import Client, build_sample_site, make_people, wait_until_up
from modulacms.plugin_runtime.options import RuntimeOptions
from modulacms.plugin_runtime.runtime import PluginRuntime


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[App, PluginRuntime, Client, dict[str, str]]]:
    app = build_app(tmp_path / "site.db")
    build_sample_site(app.services, tree_nodes=3)
    tokens = make_people(app.services)
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    for name in ("http_public_plugin", "http_params_plugin", "hooks_abort_plugin"):
        shutil.copytree(PLUGINS / name, plugins / name)
    runtime = PluginRuntime(
        app.db, app.services, plugins, RuntimeOptions(max_vms=2, sync_interval=0.2)
    ).start()
    app.plugins = runtime
    server = build_server(
        app.services,
        replace(ServerOptions(access_log=None), host="127.0.0.1", port=0),
        apis=[plugin_api(runtime)],
    )
    server.dispatcher.context.metrics.extra.append(runtime.metric_rows)
    server.start()
    wait_until_up("127.0.0.1", server.port)
    client = Client("127.0.0.1", server.port)
    client.token = tokens["admin"]
    try:
        yield app, runtime, client, tokens
    finally:
        client.close()
        server.stop(grace=5.0)
        app.close()


def eventually(check, seconds: float = 2.0) -> bool:  # type: ignore[no-untyped-def]
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if check():
            return True
        time.sleep(0.05)
    return False


A = "/api/v1/admin/plugins"


def test_routes_are_served_once_approved(site) -> None:  # type: ignore[no-untyped-def]
    app, runtime, client, tokens = site
    anonymous = Client("127.0.0.1", client.port)
    assert anonymous.get("/api/v1/plugins/http_public_plugin/status").status == 404
    reply = client.post(
        f"{A}/routes/approve",
        {
            "routes": [
                {"plugin": "http_public_plugin", "method": "GET", "path": "/status"},
                {"plugin": "http_params_plugin", "method": "GET", "path": "/items/{id}"},
            ]
        },
    )
    assert reply.status == 200 and reply.json() == {"ok": True}
    reply = anonymous.get("/api/v1/plugins/http_public_plugin/status")
    assert reply.status == 200 and reply.json() == {"status": "ok"}
    assert reply.header("X-Frame-Options") == "DENY"
    assert anonymous.get("/api/v1/plugins/http_params_plugin/items/7").status == 401
    reply = client.get("/api/v1/plugins/http_params_plugin/items/7")
    assert reply.json() == {"id": "7", "method": "GET"}
    bad = client.post(
        f"{A}/routes/approve", {"routes": [{"plugin": "x", "method": "GET", "path": "/y"}]}
    )
    assert bad.status == 400 and "not found" in bad.json()["errors"][0]
    viewer = Client("127.0.0.1", client.port)
    viewer.token = tokens["viewer"]
    assert viewer.post(f"{A}/routes/approve", {"routes": []}).status == 403
    anonymous.close()
    viewer.close()


def test_a_before_hook_blocks_content_writes_with_422(site) -> None:  # type: ignore[no-untyped-def]
    app, runtime, client, _ = site
    body = {"route": "/tree", "datatype": "card", "values": {"heading": "x"}}
    assert client.post("/api/v1/admin/content", body).status == 201  # hook not approved yet
    reply = client.post(
        f"{A}/hooks/approve",
        {
            "hooks": [
                {"plugin": "hooks_abort_plugin", "event": "before_create", "table": "content_data"}
            ]
        },
    )
    assert reply.status == 200
    reply = client.post("/api/v1/admin/content", body)
    assert reply.status == 422
    assert 'operation blocked by plugin "hooks_abort_plugin"' in reply.json()["error"]["message"]
    # approvals written by another process (the CLI) reach the server within 2 seconds
    runtime.approvals.set_hook("hooks_abort_plugin", "before_create", "content_data", False, "cli")
    assert eventually(lambda: client.post("/api/v1/admin/content", body).status == 201)


def test_admin_plugin_api_and_metrics(site) -> None:  # type: ignore[no-untyped-def]
    app, runtime, client, _ = site
    listed = client.get(A).json()["plugins"]
    assert {p["name"]: p["state"] for p in listed}["http_public_plugin"] == "running"
    info = client.get(f"{A}/http_public_plugin").json()
    assert info["vms_total"] == 2 and info["circuit_breaker_state"] == "closed"
    assert client.get(f"{A}/missing").status == 404
    assert client.post(f"{A}/http_public_plugin/disable").json()["state"] == "stopped"
    assert client.post(f"{A}/http_public_plugin/enable").json()["state"] == "running"
    assert client.post(f"{A}/http_public_plugin/reload").json() == {
        "ok": True,
        "plugin": "http_public_plugin",
    }
    routes = client.get(f"{A}/routes").json()["routes"]
    assert {
        "plugin": "http_public_plugin",
        "method": "GET",
        "path": "/status",
        "public": True,
        "approved": False,
    } in routes
    hooks = client.get(f"{A}/hooks").json()["hooks"]
    assert hooks[0]["plugin_name"] == "hooks_abort_plugin"
    client.post(
        f"{A}/routes/approve",
        {"routes": [{"plugin": "http_public_plugin", "method": "GET", "path": "/status"}]},
    )
    client.get("/api/v1/plugins/http_public_plugin/status")
    text = client.get("/api/v1/admin/metrics").body.decode()
    assert (
        'plugin_http_requests_total{method="GET",plugin="http_public_plugin",status="200"} 1'
        in text
    )
    assert 'plugin_reload_total{plugin="http_public_plugin",status="success"}' in text
