"""Small helpers shared by the handler modules."""

from __future__ import annotations

from typing import Any

from modulacms.http.request import Request
from modulacms.http.responses import Response, json_response
from modulacms.http.schemas import jsonable


def ok(data: Any, status: int = 200) -> Response:
    """A JSON response of a model (or anything ``jsonable`` understands)."""
    return json_response(jsonable(data), status)


def listing(items: list[Any], total: int, limit: int, offset: int) -> Response:
    return json_response(
        {"data": jsonable(items), "total": total, "limit": limit, "offset": offset}
    )


def window(request: Request, default: int = 50, maximum: int = 500) -> tuple[int, int]:
    """``(limit, offset)`` from the query string, within bounds (400 otherwise)."""
    limit = request.int_arg("limit", default, minimum=1, maximum=maximum)
    offset = request.int_arg("offset", 0, minimum=0)
    return limit, offset


def page(items: list[Any], request: Request, default: int = 50) -> Response:
    """Slice an in-memory list into the list envelope."""
    limit, offset = window(request, default)
    return listing(items[offset : offset + limit], len(items), limit, offset)
