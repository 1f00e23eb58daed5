"""Responses, and the one place where errors become HTTP statuses and JSON bodies.

Every error a client can cause leaves the server as ``{"error": {"code", "message",
"details"}}``. ``ModulaError`` subclasses map to statuses through ``STATUS_BY_CODE``;
protocol-level problems (no such route, body too large, wrong media type) are
``HttpError`` instances that carry their own status. Anything else is a bug: it is logged
with its traceback and the client sees a bare 500 without internals.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

from modulacms.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    ModulaError,
    NotFound,
    QueryRejected,
    RateLimited,
    Unauthorized,
    ValidationFailed,
)

log = logging.getLogger(__name__)

JSON_TYPE = "application/json"

_STATUS_BY_CLASS: tuple[tuple[type[ModulaError], int], ...] = (
    (NotFound, 404),
    (ValidationFailed, 422),
    (BadRequest, 400),
    (QueryRejected, 400),
    (Conflict, 409),
    (Unauthorized, 401),
    (Forbidden, 403),
    (RateLimited, 429),
)


class HttpError(ModulaError):
    """A protocol-level failure with its own status (404 route, 405, 411, 413, 415...)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        details: Any = None,
        headers: tuple[tuple[str, str], ...] = (),
    ) -> None:
        super().__init__(message, details=details)
        self.status = status
        self.code = code
        self.headers = headers


@dataclass(slots=True)
class Response:
    """What a handler returns: status, body bytes, content type and extra headers."""

    status: int = 200
    body: bytes = b""
    content_type: str | None = JSON_TYPE
    headers: list[tuple[str, str]] = field(default_factory=list)
    close: bool = False


def dumps(data: Any) -> bytes:
    """Compact UTF-8 JSON, the encoding of every JSON body this server sends."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def json_response(
    data: Any, status: int = 200, headers: list[tuple[str, str]] | None = None
) -> Response:
    return Response(status, dumps(data), JSON_TYPE, headers or [])


def no_content() -> Response:
    return Response(204, b"", None)


def listing(items: list[Any], total: int, limit: int, offset: int) -> Response:
    """The list envelope every collection endpoint uses."""
    return json_response({"data": items, "total": total, "limit": limit, "offset": offset})


def status_of(exc: ModulaError) -> int:
    """The HTTP status for a ModulaCMS error (500 for server-side failures)."""
    if isinstance(exc, HttpError):
        return exc.status
    for cls, status in _STATUS_BY_CLASS:
        if isinstance(exc, cls):
            return status
    return 500


def error_body(status: int, code: str, message: str, details: Any = None) -> bytes:
    return dumps({"error": {"code": code, "message": message, "details": details}})


def error_response(exc: BaseException) -> Response:
    """Translate any exception into the JSON error response the client sees."""
    if not isinstance(exc, ModulaError):
        log.error("unhandled error while serving a request", exc_info=exc)
        return Response(500, error_body(500, "internal", "internal server error"))
    status = status_of(exc)
    if status >= 500:
        log.error("server error %s: %s", exc.code, exc.message)
    headers: list[tuple[str, str]] = []
    if isinstance(exc, HttpError):
        headers.extend(exc.headers)
    elif isinstance(exc, Unauthorized):
        headers.append(("WWW-Authenticate", 'Bearer realm="modulacms"'))
    elif isinstance(exc, RateLimited):
        headers.append(("Retry-After", str(max(1, int(exc.retry_after)))))
    details = exc.details if _jsonable(exc.details) else None
    body = error_body(status, exc.code, exc.message, details)
    return Response(status, body, JSON_TYPE, headers)


def _jsonable(value: Any) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


def not_found_route(path: str) -> HttpError:
    return HttpError(404, "not_found", f"no endpoint at {path}")


def method_not_allowed(method: str, allowed: list[str]) -> HttpError:
    allow = ", ".join(sorted(set(allowed) | {"OPTIONS"}))
    return HttpError(
        405,
        "method_not_allowed",
        f"method {method} is not allowed here",
        details={"allowed": sorted(set(allowed))},
        headers=(("Allow", allow),),
    )


def too_large(limit: int) -> HttpError:
    return HttpError(
        413, "too_large", f"request body is larger than {limit} bytes", details={"limit": limit}
    )


def unsupported_media_type(got: str) -> HttpError:
    return HttpError(
        415,
        "unsupported_media_type",
        f"expected a JSON body (Content-Type: application/json), got {got or 'none'}",
    )
