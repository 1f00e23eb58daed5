"""The server core against a real project: protocol behaviour and error paths."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from modulacms.app import App, build_app
from modulacms.http.options import CorsOptions, ServerOptions
from modulacms.http.server import ModulaServer
from modulacms.http.testing import Client, running_server


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    with build_app(tmp_path / "site.db") as opened:
        yield opened


@pytest.fixture
def server(app: App) -> Iterator[ModulaServer]:
    options = ServerOptions(access_log=None, cors=CorsOptions(origins=("https://app.example",)))
    with running_server(app.services, options) as running:
        yield running


@pytest.fixture
def client(server: ModulaServer) -> Iterator[Client]:
    c = Client("127.0.0.1", server.port)
    yield c
    c.close()


def raw_exchange(port: int, data: bytes, *, read_until_close: bool = True) -> bytes:
    """Send raw bytes and return everything the server answers until it closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(data)
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                break
            chunks.append(chunk)
            if not read_until_close:
                break
        return b"".join(chunks)


def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.01)


def test_health(client: Client) -> None:
    reply = client.get("/api/v1/health")
    assert reply.status == 200 and reply.json()["status"] == "ok"
    assert reply.header("content-type") == "application/json"


def test_keep_alive_reuses_one_connection(server: ModulaServer, client: Client) -> None:
    for _ in range(5):
        assert client.get("/api/v1/health").status == 200
    assert server.connections()[0] == 1


def test_response_is_one_segment_with_nodelay(server: ModulaServer) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
        time.sleep(0.2)
        first = sock.recv(65536)
    head, _, body = first.partition(b"\r\n\r\n")
    fields = dict(line.split(b": ", 1) for line in head.split(b"\r\n")[1:])
    length = int(fields[b"Content-Length"])
    assert len(body) == length  # headers and body arrived together


def test_unknown_path_and_method(client: Client) -> None:
    reply = client.get("/api/v1/nothing-here")
    assert reply.status == 404 and reply.json()["error"]["code"] == "not_found"
    reply = client.request("DELETE", "/api/v1/health")
    assert reply.status == 405 and "GET" in (reply.header("allow") or "")
    assert reply.json()["error"]["code"] == "method_not_allowed"


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/content/../../etc/passwd",
        "/api/v1/content/%2e%2e/%2e%2e/etc/passwd",
        "/api/v1/content/a%2Fb",
        "/api/v1/content/a%00b",
        "/api/v1/content/%ff%fe",
        "/api/v1/content/a%5c..%5cb",
    ],
)
def test_path_tricks_are_400_json(client: Client, path: str) -> None:
    reply = client.get(path)
    assert reply.status == 400
    assert reply.json()["error"]["code"] == "bad_request"


def test_raw_nul_and_garbage_request_lines(server: ModulaServer) -> None:
    answer = raw_exchange(
        server.port, b"GET /api/v1/he\x00alth HTTP/1.1\r\nHost: x\r\n\r\n", read_until_close=False
    )
    assert answer.startswith(b"HTTP/1.1 400")
    answer = raw_exchange(server.port, b"NONSENSE\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 400") and b'"error"' in answer
    answer = raw_exchange(server.port, b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 414")
    answer = raw_exchange(server.port, b"GET / HTTP/1.1\r\n" + b"X: y\r\n" * 200 + b"\r\n")
    assert answer.startswith(b"HTTP/1.1 431")


def test_body_over_the_limit_is_413(server: ModulaServer, client: Client) -> None:
    reply = client.post("/api/v1/health", body=b"x" * ((1 << 20) + 1))
    assert reply.status == 413 and reply.json()["error"]["code"] == "too_large"
    chunked = (
        b"POST /api/v1/health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        + (b"100000\r\n" + b"x" * 0x100000 + b"\r\n") * 2
        + b"0\r\n\r\n"
    )
    assert raw_exchange(server.port, chunked).startswith(b"HTTP/1.1 413")


def test_head_and_options(client: Client) -> None:
    reply = client.request("HEAD", "/api/v1/health")
    assert reply.status == 200 and reply.body == b""
    reply = client.request("OPTIONS", "/api/v1/health")
    assert reply.status == 204 and "GET" in (reply.header("allow") or "")


def test_cors_preflight_and_headers(client: Client) -> None:
    reply = client.request(
        "OPTIONS",
        "/api/v1/content/about",
        headers={
            "Origin": "https://app.example",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "if-none-match",
        },
    )
    assert reply.status == 204
    assert reply.header("access-control-allow-origin") == "https://app.example"
    assert "GET" in (reply.header("access-control-allow-methods") or "")
    reply = client.get("/api/v1/health", headers={"Origin": "https://app.example"})
    assert reply.header("access-control-allow-origin") == "https://app.example"
    reply = client.get("/api/v1/health", headers={"Origin": "https://evil.example"})
    assert reply.header("access-control-allow-origin") is None
    reply = client.request(
        "OPTIONS",
        "/api/v1/health",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
    )
    assert reply.status == 403


def test_delivery_errors(client: Client) -> None:
    reply = client.get("/api/v1/content/no-such-page")
    assert reply.status == 404 and reply.json()["error"]["code"] == "not_found"
    reply = client.get("/api/v1/content/?format=xml")
    assert reply.status == 400 and "clean" in reply.json()["error"]["message"]
    reply = client.get("/api/v1/content/about?preview=maybe")
    assert reply.status == 400
    reply = client.get("/api/v1/content/about?locale=../../x")
    assert reply.status == 400


def test_graceful_shutdown_finishes_in_flight_requests(app: App) -> None:
    with running_server(app.services) as server:
        port = server.port
        idle = Client("127.0.0.1", port)
        assert idle.get("/api/v1/health").status == 200  # an idle keep-alive connection
        wait_for(lambda: server.connections() == (1, 0))
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        # a request in flight: headers sent, body still on its way when the stop begins
        sock.sendall(
            b"POST /api/v1/health HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 2\r\n\r\n{"
        )
        wait_for(lambda: server.connections() == (2, 1))
        result: dict[str, object] = {}
        stopper = threading.Thread(target=lambda: result.update(clean=server.stop(grace=5)))
        stopper.start()
        time.sleep(0.2)
        assert stopper.is_alive()  # still waiting for the request in flight
        sock.sendall(b"}")
        answer = sock.recv(65536)
        stopper.join(5)
        sock.close()
        idle.close()
        assert answer.startswith(b"HTTP/1.1 405") and b"Connection: close" in answer
        assert result["clean"] is True
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=1).close()


def test_access_log_to_file(app: App, tmp_path: Path) -> None:
    log_file = tmp_path / "access.log"
    with running_server(app.services, ServerOptions(access_log=str(log_file))) as server:
        client = Client("127.0.0.1", server.port)
        client.get("/api/v1/health?probe=1", headers={"User-Agent": 'evil"agent'})
        client.close()
    lines = log_file.read_text().splitlines()
    line = next(entry for entry in lines if "probe=1" in entry)
    assert '"GET /api/v1/health?probe=1 HTTP/1.1" 200' in line and 'evil\\"agent' in line


def test_extra_endpoint_tables_are_served_and_documented(app: App) -> None:
    from modulacms.http.api import Api
    from modulacms.http.responses import json_response
    from modulacms.http.runner import build_server

    extra = Api("plugins")

    @extra.get("/api/v1/plugins/demo/hello", "A plugin's greeting")
    def hello(request, ctx):  # type: ignore[no-untyped-def]
        return json_response({"hello": request.arg("name", "world")})

    server = build_server(
        app.services, ServerOptions(host="127.0.0.1", port=0, access_log=None), apis=[extra]
    ).start()
    try:
        client = Client("127.0.0.1", server.port)
        assert client.get("/api/v1/plugins/demo/hello?name=x").json() == {"hello": "x"}
        paths = client.get("/api/v1/openapi.json").json()["paths"]
        assert paths["/api/v1/plugins/demo/hello"]["get"]["tags"] == ["plugins"]
        client.close()
    finally:
        server.stop(grace=2)
