"""``GET /api/v1/health``: liveness for load balancers and the test harness."""

from __future__ import annotations

import time

from modulacms import __version__
from modulacms.http.api import Api, obj
from modulacms.http.context import Context
from modulacms.http.request import Request
from modulacms.http.responses import Response, json_response

api = Api("system")


@api.get(
    "/api/v1/health",
    "Liveness: answers 200 while the server runs",
    response=obj(("status", "version"), status={"type": "string"}, version={"type": "string"}),
)
def health(request: Request, ctx: Context) -> Response:
    return json_response(
        {
            "status": "ok",
            "version": __version__,
            "worker": ctx.worker,
            "uptime_seconds": round(time.monotonic() - ctx.started, 3),
        },
        headers=[("Cache-Control", "no-store")],
    )
