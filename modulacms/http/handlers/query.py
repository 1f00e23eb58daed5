"""``GET /api/v1/query/{datatype}``: published nodes filtered and sorted in SQL."""

from __future__ import annotations

import re

from modulacms.errors import BadRequest
from modulacms.http.api import OFFSET, Api, Param, listing_of
from modulacms.http.context import Context
from modulacms.http.handlers.common import listing
from modulacms.http.request import Request
from modulacms.http.responses import Response

api = Api("delivery")

_FILTER = re.compile(r"^([a-z][a-z0-9_]*)\[([a-z]+)\]$")
_RESERVED = {"sort", "limit", "offset", "locale", "format"}


def filters_of(request: Request) -> list[tuple[str, str, str]]:
    """``field[op]=value`` pairs (a bare ``field=value`` means ``eq``)."""
    found: list[tuple[str, str, str]] = []
    for key, values in request.query.items():
        if key in _RESERVED:
            continue
        match = _FILTER.match(key)
        if match is not None:
            name, op = match.groups()
        elif re.match(r"^[a-z][a-z0-9_]*$", key):
            name, op = key, "eq"
        else:
            raise BadRequest(f"query parameter {key!r} is not field[op]=value")
        found.extend((name, op, value) for value in values)
    return found


@api.get(
    "/api/v1/query/{datatype}",
    "Published nodes of one datatype, filtered and sorted by field values",
    response=listing_of("PublishedItem"),
    query=(
        Param("sort", {"type": "string"}, "a field name, or -name for descending"),
        Param("limit", {"type": "integer", "minimum": 1}, "page size (default 20, at most 100)"),
        OFFSET,
    ),
    errors=(400, 404, 422),
    description=(
        "Filters are query parameters `field[op]=value` with op one of eq, neq, gt, gte, lt, "
        "lte, like, in (comma-separated values). Number fields compare as numbers."
    ),
)
def query(request: Request, ctx: Context) -> Response:
    limit = request.int_arg("limit", 20, minimum=1)
    offset = request.int_arg("offset", 0, minimum=0)
    result = ctx.services.query.query(
        request.params["datatype"],
        filters_of(request),
        sort=request.arg("sort") or None,
        limit=limit,
        offset=offset,
    )
    return listing(result.items, result.total, result.limit, result.offset)
