"""The route table: ``(method, pattern) -> handler``, matched segment by segment.

Patterns are literal segments plus ``{name}`` (one segment) and ``{name:path}`` (the rest
of the path, possibly empty, always last). Literal segments win over parameters, so
``/api/v1/content/versions`` and ``/api/v1/content/{id}`` can coexist. A path that matches
a pattern under another method is a 405 with ``Allow``; no match at all is a 404.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from modulacms.http.responses import method_not_allowed, not_found_route

if TYPE_CHECKING:
    from modulacms.http.context import Context
    from modulacms.http.request import Request
    from modulacms.http.responses import Response

Handler = Callable[["Request", "Context"], "Response"]


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One row of the route table. ``pattern`` doubles as the metrics label."""

    method: str
    pattern: str
    handler: Handler
    doc: Any = None  # api.Doc, for the OpenAPI document


@dataclass(slots=True)
class _Node:
    literal: dict[str, _Node] = field(default_factory=dict)
    param: tuple[str, _Node] | None = None
    rest: tuple[str, dict[str, Endpoint]] | None = None
    endpoints: dict[str, Endpoint] = field(default_factory=dict)


class Router:
    """A route table built once at start-up and read by every request thread."""

    def __init__(self) -> None:
        self._root = _Node()
        self._static: dict[str, dict[str, Endpoint]] = {}
        self.endpoints: list[Endpoint] = []

    def add(self, method: str, pattern: str, handler: Handler, *, doc: Any = None) -> None:
        """Register ``handler`` for ``method`` on ``pattern`` (a duplicate raises ValueError)."""
        endpoint = Endpoint(method.upper(), pattern, handler, doc)
        parts = _segments(pattern)
        node = self._root
        for i, part in enumerate(parts):
            if part.startswith("{") and part.endswith(":path}"):
                if i != len(parts) - 1:
                    raise ValueError(f"{{...:path}} must be last in {pattern}")
                name = part[1:-6]
                if node.rest is None:
                    node.rest = (name, {})
                self._put(node.rest[1], endpoint)
                self.endpoints.append(endpoint)
                return
            if part.startswith("{") and part.endswith("}"):
                if node.param is None:
                    node.param = (part[1:-1], _Node())
                elif node.param[0] != part[1:-1]:
                    raise ValueError(f"{pattern}: parameter here is named {node.param[0]}")
                node = node.param[1]
            else:
                node = node.literal.setdefault(part, _Node())
        self._put(node.endpoints, endpoint)
        if "{" not in pattern:
            self._static.setdefault(_normal(pattern), node.endpoints)
        self.endpoints.append(endpoint)

    @staticmethod
    def _put(table: dict[str, Endpoint], endpoint: Endpoint) -> None:
        if endpoint.method in table:
            raise ValueError(f"duplicate route {endpoint.method} {endpoint.pattern}")
        table[endpoint.method] = endpoint

    def match(self, method: str, path: str) -> tuple[Endpoint, dict[str, str]]:
        """The endpoint for a request and its captured parameters (404 / 405 otherwise)."""
        table = self._static.get(_normal(path))
        params: dict[str, str] = {}
        if table is None:
            table = self._find(self._root, _segments(path), 0, params)
        if not table:
            raise not_found_route(path)
        endpoint = table.get(method)
        if endpoint is None and method == "HEAD":
            endpoint = table.get("GET")
        if endpoint is None:
            raise method_not_allowed(method, list(table))
        return endpoint, params

    def allowed(self, path: str) -> list[str]:
        """Methods registered for ``path`` (empty when nothing matches)."""
        table = self._static.get(_normal(path))
        if table is None:
            table = self._find(self._root, _segments(path), 0, {})
        return sorted(table or {})

    def _find(
        self, node: _Node, parts: list[str], i: int, params: dict[str, str]
    ) -> dict[str, Endpoint] | None:
        if i == len(parts):
            if node.endpoints:
                return node.endpoints
            if node.rest is not None:
                params[node.rest[0]] = ""
                return node.rest[1]
            return None
        child = node.literal.get(parts[i])
        if child is not None:
            found = self._find(child, parts, i + 1, params)
            if found:
                return found
        if node.param is not None and parts[i]:
            name, sub = node.param
            found = self._find(sub, parts, i + 1, params)
            if found:
                params[name] = parts[i]
                return found
        if node.rest is not None:
            params[node.rest[0]] = "/".join(parts[i:])
            return node.rest[1]
        return None


def _normal(path: str) -> str:
    """Trailing slashes are not significant (``/api/v1/health/`` is ``/api/v1/health``)."""
    return path.rstrip("/") or "/"


def _segments(path: str) -> list[str]:
    stripped = _normal(path).strip("/")
    return stripped.split("/") if stripped else []
