"""Socket I/O: a ``ThreadingHTTPServer`` tuned for HTTP/1.1 keep-alive.

What makes the standard-library server fast enough here: HTTP/1.1 with keep-alive (one
thread per connection, not per request), ``TCP_NODELAY`` (no Nagle delay on small
responses) and exactly one ``sendall`` per response, headers and body together. Graceful
shutdown stops accepting, closes idle keep-alive connections, lets in-flight requests
finish (answering them with ``Connection: close``) and only then returns.
"""

from __future__ import annotations

import logging
import socket
import socketserver
import threading
import time
from collections.abc import Callable
from email.utils import formatdate
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from modulacms import __version__
from modulacms.http.accesslog import AccessLog
from modulacms.http.dispatch import Dispatcher
from modulacms.http.options import ServerOptions
from modulacms.http.responses import (
    HttpError,
    Response,
    error_body,
    error_response,
    too_large,
)
from modulacms.http.wire import MAX_LINE, HeadError, Headers, parse_head

log = logging.getLogger(__name__)

_REASONS = {s.value: s.phrase for s in HTTPStatus}
_NO_BODY = frozenset({204, 304})
_date: tuple[int, str] = (0, "")


def http_date() -> str:
    """The current ``Date`` header value, formatted at most once a second."""
    global _date
    now = int(time.time())
    if now != _date[0]:
        _date = (now, formatdate(now, usegmt=True))
    return _date[1]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = f"ModulaCMS/{__version__}"
    disable_nagle_algorithm = True
    server: ModulaServer

    def setup(self) -> None:
        self.connection = self.request
        self.connection.settimeout(self.server.options.keepalive_timeout)
        super().setup()
        self._shut = False
        self.server.conns[self] = False

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass
        self.server.conns.pop(self, None)

    def handle_one_request(self) -> None:
        try:
            line = self.rfile.readline(MAX_LINE + 1)
            if line in (b"\r\n", b"\n"):  # a stray empty line between requests is allowed
                line = self.rfile.readline(MAX_LINE + 1)
        except OSError:  # timeout on an idle keep-alive connection, or a reset
            self.close_connection = True
            return
        if not line:
            self.close_connection = True
            return
        conns = self.server.conns
        conns[self] = True
        try:
            self._request(line)
        except OSError:
            self.close_connection = True
        finally:
            conns[self] = False

    def _request(self, line: bytes) -> None:
        start = time.perf_counter()
        self.command, self.request_version = "", "HTTP/1.1"
        try:
            head = parse_head(line, self.rfile)
        except HeadError as exc:
            code = _REASONS.get(exc.status, "error").lower().replace(" ", "_")
            self._send(Response(exc.status, error_body(exc.status, code, exc.message), close=True))
            return
        headers = head.headers
        self.command, self.path, self.request_version = head.method, head.target, head.version
        self.headers = headers  # type: ignore[assignment]
        self.close_connection = not head.keep_alive
        try:
            body = self._body(headers)
        except HttpError as exc:
            response = error_response(exc)
            response.close = True
            self._send(response)
            self._linger()
            return
        client = self._client_ip(headers)
        response, request = self.server.dispatcher.dispatch(
            head.method, head.target, headers, body, client
        )
        size = self._send(response)
        access = self.server.access_log
        if access is not None:
            actor = request.actor if request is not None else None
            access.record(
                client,
                (actor.name or actor.user_id or "") if actor is not None else "",
                head.method,
                head.target,
                response.status,
                size,
                time.perf_counter() - start,
                headers.get("user-agent") or "",
            )

    def _linger(self) -> None:
        """Discard what the client is still sending before closing, so that the kernel
        does not answer the unread bytes with a reset that destroys our error response."""
        try:
            self.connection.shutdown(socket.SHUT_WR)
            self.connection.settimeout(1.0)
            deadline = time.monotonic() + 2.0
            budget = 64 << 20
            while budget > 0 and time.monotonic() < deadline:
                chunk = self.rfile.read1(65536)
                if not chunk:
                    break
                budget -= len(chunk)
        except OSError:
            pass

    def _client_ip(self, headers: Headers) -> str:
        if self.server.options.trust_proxy_headers:
            forwarded = headers.get("x-forwarded-for")
            if forwarded:
                return str(forwarded).split(",")[0].strip()
        return str(self.client_address[0])

    def _body(self, headers: Headers) -> bytes:
        limit = self.server.options.max_body_bytes
        encoding = headers.get("transfer-encoding")
        if encoding is not None:
            if encoding.strip().lower() != "chunked":
                raise HttpError(
                    501, "not_implemented", f"transfer encoding {encoding} is not supported"
                )
            return self._chunked(limit)
        length = headers.get("content-length")
        if length is None:
            return b""
        if (
            headers.get("expect") or ""
        ).lower() == "100-continue" and self.request_version == "HTTP/1.1":
            if length.strip().isdigit() and int(length) <= limit:
                self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        try:
            size = int(length)
        except ValueError:
            raise HttpError(400, "bad_request", "Content-Length is not a number") from None
        if size < 0:
            raise HttpError(400, "bad_request", "Content-Length is negative")
        if size > limit:
            raise too_large(limit)
        body = self.rfile.read(size) if size else b""
        if len(body) != size:
            raise HttpError(400, "bad_request", "request body ended early")
        return body

    def _chunked(self, limit: int) -> bytes:
        parts: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(1026)
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise HttpError(400, "bad_request", "malformed chunked body") from None
            if size < 0:
                raise HttpError(400, "bad_request", "malformed chunked body")
            if size == 0:
                while self.rfile.readline(8194) not in (b"\r\n", b"\n", b""):
                    pass  # trailers are read and ignored
                return b"".join(parts)
            total += size
            if total > limit:
                raise too_large(limit)
            chunk = self.rfile.read(size)
            if len(chunk) != size or self.rfile.readline(3) not in (b"\r\n", b"\n"):
                raise HttpError(400, "bad_request", "malformed chunked body")
            parts.append(chunk)

    def _send(self, response: Response) -> int:
        """Write the whole response with one ``sendall``; returns the body size sent."""
        status = response.status
        close = response.close or self.close_connection or self.server.draining
        head = [
            f"HTTP/1.1 {status} {_REASONS.get(status, 'Unknown')}\r\n"
            f"Server: {self.server_version}\r\nDate: {http_date()}\r\n"
        ]
        body = response.body
        if status in _NO_BODY:
            body = b""
        else:
            if response.content_type:
                head.append(f"Content-Type: {response.content_type}\r\n")
            head.append(f"Content-Length: {len(body)}\r\n")
        for name, value in response.headers:
            head.append(f"{name}: {value}\r\n")
        if close:
            head.append("Connection: close\r\n")
            self.close_connection = True
        elif self.request_version == "HTTP/1.0":
            head.append("Connection: keep-alive\r\n")
        head.append("\r\n")
        if self.command == "HEAD":
            body = b""
        self.wfile.write("".join(head).encode("latin-1") + body)
        return len(body)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("http: " + format, *args)


class ModulaServer(ThreadingHTTPServer):
    """The listening socket plus the bookkeeping graceful shutdown needs."""

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(
        self,
        options: ServerOptions,
        dispatcher: Dispatcher,
        *,
        reuse_port: bool = False,
        access_log: AccessLog | None = None,
    ) -> None:
        self.options = options
        self.dispatcher = dispatcher
        self.access_log = access_log
        self.reuse_port = reuse_port
        self.draining = False
        self._serving = False
        # handler -> request in flight; plain dict operations are atomic under the GIL
        self.conns: dict[_Handler, bool] = {}
        self._thread: threading.Thread | None = None
        self.on_stop: list[Callable[[], object]] = []
        super().__init__((options.host, options.port), _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind would resolve the host name (a DNS lookup); not needed
        if self.reuse_port:
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    @property
    def port(self) -> int:
        return self.server_port

    @property
    def url(self) -> str:
        return f"http://{self.server_name}:{self.server_port}"

    # -- connection bookkeeping ---------------------------------------------------------

    def connections(self) -> tuple[int, int]:
        """(open connections, connections with a request in flight)."""
        states = list(self.conns.values())
        return len(states), sum(states)

    # -- running ------------------------------------------------------------------------

    def serve_forever(self, poll_interval: float = 0.5) -> None:
        self._serving = True
        try:
            super().serve_forever(poll_interval)
        finally:
            self._serving = False

    def start(self) -> ModulaServer:
        """Serve from a background thread (tests, and the main thread waiting on signals)."""
        self._thread = threading.Thread(
            target=self.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="http-accept",
            daemon=True,
        )
        self._serving = True
        self._thread.start()
        return self

    def stop(self, grace: float | None = None) -> bool:
        """Stop accepting, finish in-flight requests, close idle connections.

        Returns True when every connection closed within ``grace`` seconds (default from
        the options); stragglers are cut off after that.
        """
        grace = self.options.shutdown_grace if grace is None else grace
        self.draining = True
        if self._serving:
            self.shutdown()
        self.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        deadline = time.monotonic() + grace
        clean = True
        while True:
            conns = list(self.conns.items())
            if not conns:
                break
            late = time.monotonic() > deadline
            for handler, busy in conns:
                if late or (not busy and not handler._shut):
                    handler._shut = True
                    _shutdown(handler.connection, socket.SHUT_RDWR if late else socket.SHUT_RD)
            if late:
                clean = False
                break
            time.sleep(0.02)
        for callback in self.on_stop:
            try:
                callback()
            except Exception:
                log.exception("error while stopping the server")
        return clean


def _shutdown(sock: socket.socket, how: int) -> None:
    try:
        sock.shutdown(how)
    except OSError:
        pass  # already closed by the peer
