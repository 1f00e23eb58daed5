"""Declaring endpoints with their documentation, so the OpenAPI document stays true.

Each handler module builds an :class:`Api` table with decorators::

    api = Api("routes")

    @api.get("/api/v1/admin/routes", "List routes", permission="routes:read",
             response=listing_of("Route"))
    def list_routes(request, ctx): ...

``register(router)`` copies the table into the router; ``openapi.py`` renders the same
rows. ``permission`` is ``None`` for public endpoints and ``""`` for "any signed-in user".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from modulacms.http.routes import Handler, Router

Schema = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Param:
    """A documented query parameter."""

    name: str
    schema: Schema
    description: str = ""
    required: bool = False


@dataclass(frozen=True, slots=True)
class Doc:
    summary: str
    tag: str
    permission: str | None = None
    body: Schema | None = None
    response: Schema | None = None
    status: int = 200
    content_type: str = "application/json"
    body_type: str = "application/json"
    query: tuple[Param, ...] = ()
    errors: tuple[int, ...] = ()
    description: str = ""


@dataclass(slots=True)
class Api:
    """A table of documented endpoints for one area of the API."""

    tag: str
    rows: list[tuple[str, str, Handler, Doc]] = field(default_factory=list)

    def route(
        self, method: str, pattern: str, summary: str, **doc: Any
    ) -> Callable[[Handler], Handler]:
        def decorate(handler: Handler) -> Handler:
            self.rows.append((method, pattern, handler, Doc(summary, self.tag, **doc)))
            return handler

        return decorate

    def get(self, pattern: str, summary: str, **doc: Any) -> Callable[[Handler], Handler]:
        return self.route("GET", pattern, summary, **doc)

    def post(self, pattern: str, summary: str, **doc: Any) -> Callable[[Handler], Handler]:
        return self.route("POST", pattern, summary, **doc)

    def patch(self, pattern: str, summary: str, **doc: Any) -> Callable[[Handler], Handler]:
        return self.route("PATCH", pattern, summary, **doc)

    def put(self, pattern: str, summary: str, **doc: Any) -> Callable[[Handler], Handler]:
        return self.route("PUT", pattern, summary, **doc)

    def delete(self, pattern: str, summary: str, **doc: Any) -> Callable[[Handler], Handler]:
        return self.route("DELETE", pattern, summary, **doc)

    def register(self, router: Router) -> None:
        for method, pattern, handler, doc in self.rows:
            router.add(method, pattern, handler, doc=doc)


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def listing_of(name: str) -> Schema:
    return {
        "type": "object",
        "required": ["data", "total", "limit", "offset"],
        "properties": {
            "data": {"type": "array", "items": ref(name)},
            "total": {"type": "integer"},
            "limit": {"type": "integer"},
            "offset": {"type": "integer"},
        },
    }


def obj(required: tuple[str, ...] = (), /, **properties: Schema) -> Schema:
    """A JSON object schema (extra properties allowed, as clients evolve)."""
    schema: Schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    return schema


STRING: Schema = {"type": "string"}
INTEGER: Schema = {"type": "integer"}
BOOLEAN: Schema = {"type": "boolean"}
ANY_OBJECT: Schema = {"type": "object"}
LIMIT = Param("limit", {"type": "integer", "minimum": 1, "maximum": 500}, "page size")
OFFSET = Param("offset", {"type": "integer", "minimum": 0}, "items to skip")
