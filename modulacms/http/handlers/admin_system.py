"""Admin API for the activity log and server metrics."""

from __future__ import annotations

from modulacms.http.api import LIMIT, OFFSET, STRING, Api, Param, listing_of
from modulacms.http.auth import require
from modulacms.http.context import Context
from modulacms.http.handlers.common import listing, window
from modulacms.http.request import Request
from modulacms.http.responses import Response

api = Api("system")
PROMETHEUS = "text/plain; version=0.0.4; charset=utf-8"


@api.get(
    "/api/v1/admin/audit",
    "The activity log, newest first",
    permission="audit:read",
    response=listing_of("ChangeEvent"),
    query=(
        Param("table", STRING),
        Param("record_id", STRING),
        Param("actor_id", STRING),
        Param("operation", STRING),
        LIMIT,
        OFFSET,
    ),
    errors=(400, 401, 403),
)
def audit(request: Request, ctx: Context) -> Response:
    actor = require(request, ctx, "audit:read")
    limit, offset = window(request)
    events, total = ctx.services.audit.list(
        actor,
        table=request.arg("table"),
        record_id=request.arg("record_id"),
        actor_id=request.arg("actor_id"),
        operation=request.arg("operation"),
        limit=limit,
        offset=offset,
    )
    return listing(events, total, limit, offset)


@api.get(
    "/api/v1/admin/metrics",
    "Server metrics in the Prometheus text format",
    permission="metrics:read",
    content_type=PROMETHEUS,
    response={"type": "string"},
    errors=(401, 403),
)
def metrics(request: Request, ctx: Context) -> Response:
    require(request, ctx, "metrics:read")
    return Response(200, ctx.metrics.render().encode(), PROMETHEUS, [("Cache-Control", "no-store")])
