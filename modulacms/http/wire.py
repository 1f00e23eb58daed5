"""Parsing a request head (request line and header fields) straight off the socket.

``http.server`` parses headers with the ``email`` package, which costs more than the
rest of serving a cached page. This parser does the part HTTP/1.1 needs: it reads at
most ``MAX_HEADERS`` fields of at most ``MAX_LINE`` bytes, rejects obsolete line folding
and malformed names, joins repeated fields with ``", "`` and decides keep-alive from the
version and ``Connection``.
"""

from __future__ import annotations

import re
from typing import Protocol

MAX_LINE = 65536
MAX_HEADERS = 100
_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")


class LineReader(Protocol):
    def readline(self, size: int = -1, /) -> bytes: ...


class HeadError(Exception):
    """A malformed request head; ``status`` is 400, 414, 431 or 505."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class Headers(dict[str, str]):
    """Header fields keyed by lower-case name; ``get`` takes any case."""

    __slots__ = ()

    def get(self, name: str, default: str | None = None) -> str | None:  # type: ignore[override]
        return dict.get(self, name.lower(), default)


class Head:
    """The parsed request line and fields."""

    __slots__ = ("method", "target", "version", "headers", "keep_alive")

    def __init__(
        self, method: str, target: str, version: str, headers: Headers, keep_alive: bool
    ) -> None:
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers
        self.keep_alive = keep_alive


def parse_head(first_line: bytes, rfile: LineReader) -> Head:
    """Parse a request whose first line was already read; raises :class:`HeadError`."""
    if len(first_line) > MAX_LINE:
        raise HeadError(414, "request line too long")
    words = first_line.decode("latin-1").rstrip("\r\n").split(" ")
    if len(words) != 3 or not words[0] or not words[1]:
        raise HeadError(400, "malformed request line")
    method, target, version = words
    if not _TOKEN.match(method):
        raise HeadError(400, "malformed method")
    if version not in ("HTTP/1.1", "HTTP/1.0"):
        if version.startswith("HTTP/"):
            raise HeadError(505, f"HTTP version {version[5:]} is not supported")
        raise HeadError(400, "malformed request line")
    headers = Headers()
    count = 0
    while True:
        line = rfile.readline(MAX_LINE + 1)
        if len(line) > MAX_LINE:
            raise HeadError(431, "header line too long")
        if line in (b"\r\n", b"\n"):
            break
        if not line:
            raise HeadError(400, "request head ended early")
        count += 1
        if count > MAX_HEADERS:
            raise HeadError(431, f"more than {MAX_HEADERS} header fields")
        text = line.decode("latin-1")
        if text[0] in " \t":
            raise HeadError(400, "obsolete header line folding")
        name, colon, value = text.partition(":")
        if not colon or not _TOKEN.match(name):
            raise HeadError(400, "malformed header field")
        key = name.lower()
        value = value.strip(" \t\r\n")
        previous = dict.get(headers, key)
        headers[key] = value if previous is None else f"{previous}, {value}"
    connection = (dict.get(headers, "connection") or "").lower()
    if version == "HTTP/1.1":
        keep_alive = "close" not in connection
    else:
        keep_alive = "keep-alive" in connection
    return Head(method, target, version, headers, keep_alive)
