"""``GET /api/v1/health``: liveness for load balancers and the test harness."""

from __future__ import annotations

import time

from modulacms import __version__
from modulacms.http.context import Context
from modulacms.http.request import Request
from modulacms.http.responses import Response, json_response
from modulacms.http.routes import Router


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


def register(router: Router) -> None:
    router.add("GET", "/api/v1/health", health)
