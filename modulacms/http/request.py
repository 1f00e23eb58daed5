"""The parsed request a handler sees, and the strict parsing of paths, queries and JSON.

Path rules (so that no path trick reaches a handler): each ``/``-separated segment is
percent-decoded on its own and must be valid UTF-8; a decoded segment may not contain
``/``, ``\\``, NUL or any other control character, and may not be ``.`` or ``..``.
Breaking a rule is a 400, never a lookup with a surprising key.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote_to_bytes

from modulacms.core.models import Actor
from modulacms.errors import BadRequest
from modulacms.http.responses import unsupported_media_type

MAX_QUERY_FIELDS = 200


@dataclass(slots=True)
class Request:
    """One HTTP request. ``params`` holds the values captured by the route pattern."""

    method: str
    path: str
    query_string: str
    headers: Any  # http.client.HTTPMessage (case-insensitive .get)
    body: bytes
    client_ip: str
    max_json_depth: int = 32
    params: dict[str, str] = field(default_factory=dict)
    actor: Actor | None = None
    route_label: str = ""
    _query: dict[str, list[str]] | None = None

    def header(self, name: str, default: str = "") -> str:
        value = self.headers.get(name)
        return default if value is None else str(value)

    @property
    def query(self) -> dict[str, list[str]]:
        """Query parameters; bad percent-encoding or UTF-8 is a 400."""
        if self._query is None:
            self._query = parse_query(self.query_string)
        return self._query

    def arg(self, name: str, default: str | None = None) -> str | None:
        """The last value of query parameter ``name``."""
        values = self.query.get(name)
        return values[-1] if values else default

    def int_arg(
        self, name: str, default: int, *, minimum: int = 0, maximum: int | None = None
    ) -> int:
        """An integer query parameter within bounds (400 when it is not a number)."""
        raw = self.arg(name)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            raise BadRequest(f"query parameter {name} must be an integer, got {raw!r}") from None
        if value < minimum:
            raise BadRequest(f"query parameter {name} must be at least {minimum}")
        if maximum is not None and value > maximum:
            raise BadRequest(f"query parameter {name} must be at most {maximum}")
        return value

    def bool_arg(self, name: str) -> bool:
        raw = (self.arg(name) or "").lower()
        if raw in ("", "0", "false", "no", "off"):
            return False
        if raw in ("1", "true", "yes", "on"):
            return True
        raise BadRequest(f"query parameter {name} must be true or false, got {raw!r}")

    def json(self) -> Any:
        """The body as JSON (415 when it is not JSON, 400 when it is malformed)."""
        return parse_json_body(self.header("Content-Type"), self.body, self.max_json_depth)

    def json_object(self) -> dict[str, Any]:
        """The body as a JSON object; an empty body is ``{}``."""
        if not self.body.strip():
            return {}
        data = self.json()
        if not isinstance(data, dict):
            raise BadRequest("request body must be a JSON object")
        return data


def split_target(target: str) -> tuple[str, str]:
    """Split a request target into (decoded path, raw query string), enforcing the path rules."""
    path, _, query = target.partition("?")
    path = path.partition("#")[0]
    if not path.startswith("/"):
        raise BadRequest("request target must be an absolute path")
    if path.isascii() and "%" not in path and "\\" not in path and "/." not in path:
        if _printable(path):
            return path, query
    segments = []
    for raw in path.split("/"):
        try:
            # http.server decodes the request line as latin-1: undo that to get the bytes
            segment = unquote_to_bytes(raw.encode("latin-1")).decode("utf-8")
        except (UnicodeDecodeError, UnicodeEncodeError):
            raise BadRequest("path is not valid UTF-8") from None
        if segment in (".", ".."):
            raise BadRequest("path segments '.' and '..' are not allowed")
        if "/" in segment or "\\" in segment:
            raise BadRequest("encoded slashes and backslashes are not allowed in a path")
        if not _printable(segment):
            raise BadRequest("control characters are not allowed in a path")
        segments.append(segment)
    return "/".join(segments), query


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _printable(text: str) -> bool:
    return _CONTROL.search(text) is None


def parse_query(query: str) -> dict[str, list[str]]:
    if not query:
        return {}
    try:
        if not query.isascii():
            query = query.encode("latin-1").decode("utf-8")
        return parse_qs(
            query,
            keep_blank_values=True,
            encoding="utf-8",
            errors="strict",
            max_num_fields=MAX_QUERY_FIELDS,
        )
    except (UnicodeDecodeError, UnicodeEncodeError):
        raise BadRequest("query string is not valid UTF-8") from None
    except ValueError:
        raise BadRequest(f"too many query parameters (at most {MAX_QUERY_FIELDS})") from None


def _reject_constant(name: str) -> Any:
    raise BadRequest(f"{name} is not valid JSON")


def parse_json_body(content_type: str, body: bytes, max_depth: int) -> Any:
    """Decode a JSON request body under the server's limits."""
    media = content_type.partition(";")[0].strip().lower()
    if media != "application/json" and not (
        media.startswith("application/") and media.endswith("+json")
    ):
        raise unsupported_media_type(media)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest(f"request body is not valid UTF-8 (byte {exc.start})") from None
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise BadRequest(f"JSON nesting is deeper than {max_depth}") from None
    except json.JSONDecodeError as exc:
        raise BadRequest(
            f"malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    if json_depth(data, max_depth) > max_depth:
        raise BadRequest(f"JSON nesting is deeper than {max_depth}")
    return data


def json_depth(data: Any, stop_after: int) -> int:
    """Nesting depth of a decoded JSON value (scalars are 0); stops early past ``stop_after``."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children: Any = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        depth += 1
        if depth > deepest:
            deepest = depth
            if deepest > stop_after:
                return deepest
        stack.extend((child, depth) for child in children)
    return deepest
