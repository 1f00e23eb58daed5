"""The OpenAPI 3.1 document of the whole API, rendered from the route table.

Every endpoint is registered with a :class:`~modulacms.http.api.Doc`, and model schemas
are derived from the dataclasses the handlers serialise, so the document cannot drift
from the code without a test noticing (``tests/e2e/test_http_openapi.py`` validates it
and runs schemathesis against a live server).
"""

from __future__ import annotations

from typing import Any

from modulacms import __version__
from modulacms.core.models import (
    ChangeEvent,
    ContentItem,
    ContentNode,
    ContentVersion,
    CreatedContent,
    Datatype,
    DatatypeField,
    Field,
    HealReport,
    Media,
    Route,
    TrashEntry,
)
from modulacms.core.people import Permission, Role, Token, TokenCreated, User
from modulacms.http.api import Doc, Schema
from modulacms.http.routes import Router
from modulacms.http.schemas import schema_of
from modulacms.services.query import PublishedItem

MODELS: tuple[type, ...] = (
    ChangeEvent,
    ContentItem,
    ContentNode,
    ContentVersion,
    CreatedContent,
    Datatype,
    DatatypeField,
    Field,
    HealReport,
    Media,
    Permission,
    PublishedItem,
    Role,
    Route,
    Token,
    TokenCreated,
    TrashEntry,
    User,
)

ERROR: Schema = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {},
            },
        }
    },
}

_REASONS = {
    304: "Not modified (the ETag in If-None-Match still matches)",
    400: "Bad request: malformed JSON, query parameter or path",
    401: "No valid credentials",
    403: "Signed in, but the permission is missing",
    404: "Not found",
    409: "Conflict: stale revision, duplicate, or the state does not allow it",
    413: "Request body larger than the limit",
    415: "The body is not JSON",
    422: "Validation failed; details.fields lists every problem",
    429: "Too many requests; see Retry-After",
}


def _path(pattern: str) -> str:
    return pattern.replace(":path}", "}")


def _operation(method: str, pattern: str, name: str, doc: Doc) -> dict[str, Any]:
    params: list[dict[str, Any]] = []
    for part in pattern.split("/"):
        if part.startswith("{"):
            params.append(
                {
                    "name": part[1:-1].split(":")[0],
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string"},
                }
            )
    for param in doc.query:
        params.append(
            {
                "name": param.name,
                "in": "query",
                "required": param.required,
                "schema": param.schema,
                "description": param.description,
            }
        )
    ok: dict[str, Any] = {"description": doc.summary}
    if doc.status != 204:
        ok["content"] = {doc.content_type: {"schema": doc.response or {}}}
    responses: dict[str, Any] = {str(doc.status): ok}
    errors = {400, *doc.errors}
    if doc.body is not None:
        errors |= {413, 422} | ({415} if doc.body_type == "application/json" else set())
    if doc.permission is not None:
        errors |= {401, 403}
    error_content = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for status in sorted(errors):
        entry: dict[str, Any] = {"description": _REASONS.get(status, "Error")}
        if status != 304:
            entry["content"] = error_content
        responses[str(status)] = entry
    operation: dict[str, Any] = {
        "operationId": name,
        "summary": doc.summary,
        "tags": [doc.tag],
        "parameters": params,
        "responses": responses,
    }
    if doc.description:
        operation["description"] = doc.description
    if doc.permission is None:
        operation["security"] = []
    else:
        operation["security"] = [{"bearer": []}, {"session": []}]
        needed = doc.permission or "any signed-in user"
        operation["x-permission"] = needed
    if doc.body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {doc.body_type: {"schema": doc.body}},
        }
    return operation


def document(router: Router, *, session_cookie: str = "modulacms_session") -> dict[str, Any]:
    """The OpenAPI 3.1 document describing every endpoint in ``router``."""
    components: dict[str, Schema] = {"Error": ERROR}
    for model in MODELS:
        schema_of(model, components)
    paths: dict[str, dict[str, Any]] = {}
    for endpoint in router.endpoints:
        if endpoint.doc is None:
            continue
        name = getattr(endpoint.handler, "__name__", "handler")
        operation = _operation(endpoint.method, endpoint.pattern, name, endpoint.doc)
        paths.setdefault(_path(endpoint.pattern), {})[endpoint.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "ModulaCMS API",
            "version": __version__,
            "description": "Public delivery, querying, authentication and administration.",
        },
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": session_cookie},
            },
        },
    }
