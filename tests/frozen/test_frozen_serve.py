"""``serve`` from the built binary: delivery, the OpenAPI document and a bundled plugin."""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from frozen_support import ADMIN_EMAIL, ADMIN_PASSWORD, Frozen, Site

pytestmark = pytest.mark.frozen


@dataclass
class Server:
    process: subprocess.Popen[str]
    url: str
    readers: list[threading.Thread]
    errors: list[str]


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def fetch(url: str, headers: dict[str, str] | None = None, data: Any = None) -> Reply:
    """One request; an HTTP error status is a reply too."""
    body = None if data is None else json.dumps(data).encode()
    request = urllib.request.Request(url, data=body, headers=headers or {})
    if body is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return Reply(response.status, dict(response.headers), response.read())
    except urllib.error.HTTPError as error:
        return Reply(error.code, dict(error.headers), error.read())


def _pump(stream: Any, lines: queue.Queue[str | None], keep: list[str]) -> None:
    for line in stream:
        keep.append(line)
        lines.put(line)
    lines.put(None)


def start_server(frozen: Frozen, *options: str) -> Server:
    """`modulacms serve --port 0` in the background, once it said where it listens."""
    process = frozen.popen("--project", "site", "serve", "--port", "0", *options)
    # both pipes are drained all along: the access log alone would fill stderr's
    lines: queue.Queue[str | None] = queue.Queue()
    output: list[str] = []
    errors: list[str] = []
    readers = [
        threading.Thread(target=_pump, args=(process.stdout, lines, output), daemon=True),
        threading.Thread(target=_pump, args=(process.stderr, queue.Queue(), errors), daemon=True),
    ]
    for reader in readers:
        reader.start()
    url = None
    deadline = time.monotonic() + 30
    while url is None and time.monotonic() < deadline:
        try:
            line = lines.get(timeout=1)
        except queue.Empty:
            continue
        if line is None:
            break
        if line.startswith("serving ") and " at http://" in line:
            url = line.split(" at ", 1)[1].split()[0]
    running = Server(process, url or "", readers, errors)
    if url is None:
        process.kill()
        _finish(running)
        pytest.fail(f"serve did not start:\n{''.join(output)}\n{''.join(errors)}")
    return running


def _finish(server: Server) -> int:
    code = server.process.wait(timeout=30)
    for reader in server.readers:
        reader.join(timeout=10)
    for stream in (server.process.stdout, server.process.stderr):
        if stream is not None:
            stream.close()
    return code


def stop(server: Server) -> tuple[int, str]:
    """SIGTERM, as a service manager stops it; (exit code, stderr)."""
    server.process.send_signal(signal.SIGTERM)
    return _finish(server), "".join(server.errors)


@pytest.fixture(scope="module")
def server(frozen: Frozen, site: Site) -> Iterator[Server]:
    """One server for the module's tests; the last test stops it."""
    running = start_server(frozen)
    yield running
    if running.process.poll() is None:
        running.process.kill()
        _finish(running)


def test_health(server: Server) -> None:
    reply = fetch(f"{server.url}/api/v1/health")
    assert reply.status == 200


def test_home_page_is_delivered(frozen: Frozen, server: Server) -> None:
    draft = json.loads(frozen.run("--project", "site", "content", "tree", "/", "--json").stdout)
    reply = fetch(f"{server.url}/api/v1/content/")
    assert reply.status == 200
    assert reply.headers["Content-Type"].startswith("application/json")
    home = reply.json()
    assert home["id"] == draft["root"]["id"]
    assert home["type"] == "page"
    assert home["title"] == draft["root"]["fields"]["title"]
    assert len(home["children"]) == len(draft["root"]["children"])

    again = fetch(f"{server.url}/api/v1/content/", {"If-None-Match": reply.headers["ETag"]})
    assert again.status == 304


def test_unknown_page_is_a_json_404(server: Server) -> None:
    reply = fetch(f"{server.url}/api/v1/content/no-such-page")
    assert reply.status == 404
    assert "error" in reply.json()


def test_openapi_document(server: Server) -> None:
    reply = fetch(f"{server.url}/api/v1/openapi.json")
    assert reply.status == 200
    document = reply.json()
    assert document["openapi"].startswith("3.1")
    assert "/api/v1/content/{slug}" in document["paths"] or any(
        path.startswith("/api/v1/content") for path in document["paths"]
    )


def test_status_sees_the_running_server(frozen: Frozen, server: Server) -> None:
    report = json.loads(frozen.run("--project", "site", "status", "--json").stdout)
    assert report["server_running"] is True


def _login(server: Server) -> dict[str, str]:
    reply = fetch(
        f"{server.url}/api/v1/auth/login", data={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
    )
    assert reply.status == 200, reply.body
    return {"Authorization": f"Bearer {reply.json()['token']}"}


def _plugin_get_route(frozen: Frozen, plugin: str) -> dict[str, Any]:
    """A GET route without parameters that the running server registered for ``plugin``."""
    deadline = time.monotonic() + 10
    while True:
        done = frozen.run("--project", "site", "plugin", "info", plugin, "--json")
        routes = [
            route
            for route in json.loads(done.stdout)["routes"]
            if route["method"] == "GET" and not any(c in route["path"] for c in "{:*")
        ]
        if routes or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert routes, f"bundled plugin {plugin} registers no plain GET route:\n{done.stdout}"
    return routes[0]


def test_an_approved_bundled_plugin_route_answers(
    frozen: Frozen, site: Site, server: Server
) -> None:
    plugin = json.loads(site.init.stdout)["plugins"][0]
    route = _plugin_get_route(frozen, plugin)
    address = f"{server.url}/api/v1/plugins/{plugin}{route['path']}"
    auth = {} if route["public"] else _login(server)
    assert route["approved"] is False
    assert fetch(address, auth).status == 404  # not approved yet

    # approved from the CLI, straight into the database; the running server picks it up
    frozen.run(
        "--project", "site", "plugin", "approve", plugin, "--route", f"GET {route['path']}", "--yes"
    )
    deadline = time.monotonic() + 5
    reply = fetch(address, auth)
    while reply.status == 404 and time.monotonic() < deadline:
        time.sleep(0.2)
        reply = fetch(address, auth)
    assert 200 <= reply.status < 300, reply.body


def test_sigterm_stops_the_server_cleanly(server: Server) -> None:
    code, err = stop(server)
    assert code == 0, err
    assert "Traceback" not in err


def test_worker_processes_share_the_port(frozen: Frozen, site: Site) -> None:
    workers = start_server(frozen, "--workers", "2")
    try:
        for _ in range(6):
            assert fetch(f"{workers.url}/api/v1/content/").status == 200
    finally:
        code, err = stop(workers)
    assert code == 0, err
