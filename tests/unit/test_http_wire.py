"""The request-head parser that replaces http.server's email-based one."""

from __future__ import annotations

import io

import pytest

from modulacms.http.wire import HeadError, parse_head


def head(text: bytes):  # type: ignore[no-untyped-def]
    first, _, rest = text.partition(b"\r\n")
    return parse_head(first + b"\r\n", io.BytesIO(rest))


def test_simple_request() -> None:
    parsed = head(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nAccept: a\r\naccept: b\r\n\r\n")
    assert (parsed.method, parsed.target, parsed.version) == ("GET", "/api/v1/health", "HTTP/1.1")
    assert parsed.headers.get("HOST") == "x" and parsed.headers.get("Accept") == "a, b"
    assert parsed.keep_alive


@pytest.mark.parametrize(
    ("version", "connection", "keep"),
    [
        ("HTTP/1.1", "", True),
        ("HTTP/1.1", "Connection: close\r\n", False),
        ("HTTP/1.0", "", False),
        ("HTTP/1.0", "Connection: Keep-Alive\r\n", True),
    ],
)
def test_keep_alive_rules(version: str, connection: str, keep: bool) -> None:
    parsed = head(f"GET / {version}\r\n{connection}\r\n".encode())
    assert parsed.keep_alive is keep


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (b"GET /\r\n\r\n", 400),
        (b"GET / HTTP/2.0\r\n\r\n", 505),
        (b"GET / FTP/1.0\r\n\r\n", 400),
        (b"G(T / HTTP/1.1\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nNoColon\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nA: b\r\n", 400),
        (b"GET / HTTP/1.1\r\n" + b"X: " + b"y" * 70_000 + b"\r\n\r\n", 431),
        (b"GET / HTTP/1.1\r\n" + b"X: y\r\n" * 101 + b"\r\n", 431),
    ],
)
def test_malformed_heads(raw: bytes, status: int) -> None:
    with pytest.raises(HeadError) as info:
        head(raw)
    assert info.value.status == status


def test_request_line_too_long() -> None:
    with pytest.raises(HeadError) as info:
        parse_head(b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n", io.BytesIO(b"\r\n"))
    assert info.value.status == 414
