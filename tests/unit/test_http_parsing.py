"""Request parsing: path rules, query strings, JSON bodies under limits."""

from __future__ import annotations

import pytest

from modulacms.errors import BadRequest
from modulacms.http.request import json_depth, parse_json_body, parse_query, split_target
from modulacms.http.responses import HttpError


@pytest.mark.parametrize(
    ("target", "path", "query"),
    [
        ("/api/v1/health", "/api/v1/health", ""),
        ("/api/v1/content/blog/hello?format=raw", "/api/v1/content/blog/hello", "format=raw"),
        ("/a%20b/c", "/a b/c", ""),
        ("/caf%C3%A9", "/café", ""),
        ("/x#frag", "/x", ""),
    ],
)
def test_good_targets(target: str, path: str, query: str) -> None:
    assert split_target(target) == (path, query)


@pytest.mark.parametrize(
    "target",
    [
        "/api/v1/../secret",
        "/api/v1/%2e%2e/secret",
        "/api/./v1",
        "/a%2Fb",
        "/a%5Cb",
        "/a\\b",
        "/a%00b",
        "/a\x00b",
        "/a%0d%0aSet-Cookie:x",
        "/bad%ffutf8",
        "relative/path",
        "http://example.com/x",
    ],
)
def test_path_tricks_are_bad_requests(target: str) -> None:
    with pytest.raises(BadRequest):
        split_target(target)


def test_raw_utf8_in_request_line_is_decoded() -> None:
    # http.server hands the request line over decoded as latin-1
    raw = "/café".encode().decode("latin-1")
    assert split_target(raw) == ("/café", "")


def test_query_parsing() -> None:
    assert parse_query("a=1&a=2&b=&c=%C3%A9") == {"a": ["1", "2"], "b": [""], "c": ["é"]}
    with pytest.raises(BadRequest, match="UTF-8"):
        parse_query("a=%ff")
    with pytest.raises(BadRequest, match="too many"):
        parse_query("&".join(f"k{i}=1" for i in range(500)))


def test_json_body_rules() -> None:
    assert parse_json_body("application/json; charset=utf-8", b'{"a": [1, 2]}', 8) == {"a": [1, 2]}
    assert parse_json_body("application/merge-patch+json", b"{}", 8) == {}
    with pytest.raises(HttpError) as info:
        parse_json_body("text/plain", b"{}", 8)
    assert info.value.status == 415
    with pytest.raises(BadRequest, match="malformed JSON"):
        parse_json_body("application/json", b'{"a": ', 8)
    with pytest.raises(BadRequest, match="UTF-8"):
        parse_json_body("application/json", b'{"a": "\xff"}', 8)
    with pytest.raises(BadRequest, match="not valid JSON"):
        parse_json_body("application/json", b"[NaN]", 8)
    with pytest.raises(BadRequest, match="deeper than 8"):
        parse_json_body("application/json", b"[" * 9 + b"]" * 9, 8)
    with pytest.raises(BadRequest, match="deeper"):
        parse_json_body("application/json", b"[" * 100_000 + b"]" * 100_000, 32)


def test_json_depth() -> None:
    assert json_depth(1, 10) == 0
    assert json_depth({"a": [1, {"b": {}}]}, 10) == 4
    assert json_depth([[[[]]]], 2) == 3  # stops early, past the limit
