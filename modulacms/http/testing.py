"""Running the real server on 127.0.0.1 and talking to it, for tests and benchmarks.

``running_server`` binds port 0, serves from a background thread, waits until the
server answers ``/api/v1/health`` and stops it gracefully afterwards. ``Client`` is a
small keep-alive JSON client over ``http.client``.
"""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from modulacms.http.options import ServerOptions
from modulacms.http.runner import build_server
from modulacms.http.server import ModulaServer


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


class Client:
    """One keep-alive connection; reconnects when the server closed it."""

    def __init__(self, host: str, port: int, *, timeout: float = 10.0) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.token: str | None = None
        self._conn: http.client.HTTPConnection | None = None

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        sent = dict(headers or {})
        if json_body is not None:
            body = json.dumps(json_body).encode()
            sent.setdefault("Content-Type", "application/json")
        if self.token and "Authorization" not in sent:
            sent["Authorization"] = f"Bearer {self.token}"
        for attempt in (1, 2):
            conn = self._connection()
            try:
                conn.request(method, path, body=body, headers=sent)
                response = conn.getresponse()
                data = response.read()
            except (ConnectionError, http.client.RemoteDisconnected):
                self.close()
                if attempt == 2:
                    raise
                continue
            reply = Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, data)
            if response.will_close:
                self.close()
            return reply
        raise AssertionError("unreachable")

    def get(self, path: str, **kw: Any) -> Reply:
        return self.request("GET", path, **kw)

    def post(self, path: str, json_body: Any = None, **kw: Any) -> Reply:
        return self.request("POST", path, json_body=json_body, **kw)

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            self._conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def wait_until_up(host: str, port: int, timeout: float = 10.0) -> None:
    """Poll the health endpoint until it answers 200."""
    deadline = time.monotonic() + timeout
    while True:
        client = Client(host, port, timeout=1.0)
        try:
            if client.get("/api/v1/health").status == 200:
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)
        finally:
            client.close()


@contextmanager
def running_server(
    services: Any,
    options: ServerOptions | None = None,
    *,
    change_token: Callable[[], object] | None = None,
) -> Iterator[ModulaServer]:
    """A real server for ``services`` on 127.0.0.1, port 0, stopped on exit."""
    base = options or ServerOptions(access_log=None)
    server = build_server(
        services, replace(base, host="127.0.0.1", port=0), change_token=change_token
    )
    server.start()
    try:
        wait_until_up("127.0.0.1", server.port)
        yield server
    finally:
        server.stop(grace=5.0)
