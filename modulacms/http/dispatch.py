"""From a parsed request line to a response: routing, CORS, errors, metrics.

This is the whole request pipeline apart from socket I/O (``server.py``), so it holds
the rule that every failure, expected or not, leaves as a JSON error response.
"""

from __future__ import annotations

import time
from typing import Any

from modulacms.http.context import Context
from modulacms.http.cors import Cors
from modulacms.http.request import Request, split_target
from modulacms.http.responses import HttpError, Response, error_response
from modulacms.http.routes import Router


class Dispatcher:
    """Calls the handler of a request and turns whatever happens into a :class:`Response`."""

    def __init__(self, router: Router, context: Context) -> None:
        self.router = router
        self.context = context
        self.cors = Cors(context.options.cors)
        self._max_depth = context.options.max_json_depth

    def dispatch(
        self, method: str, target: str, headers: Any, body: bytes, client_ip: str
    ) -> tuple[Response, Request | None]:
        """Serve one request; never raises."""
        start = time.perf_counter()
        request: Request | None = None
        label = "unmatched"
        try:
            path, query = split_target(target)
            request = Request(method, path, query, headers, body, client_ip, self._max_depth)
            if method == "OPTIONS":
                response = self._options(request)
            else:
                endpoint, params = self.router.match(method, path)
                label = request.route_label = endpoint.pattern
                request.params = params
                response = endpoint.handler(request, self.context)
        except Exception as exc:  # the edge: every failure becomes a JSON error
            response = error_response(exc)
        if self.cors.options.enabled and method != "OPTIONS":
            origin = headers.get("Origin")
            if origin:
                response.headers.extend(self.cors.headers(origin))
        self.context.metrics.observe(label, method, response.status, time.perf_counter() - start)
        return response, request

    def _options(self, request: Request) -> Response:
        allowed = self.router.allowed(request.path)
        if not allowed:
            raise HttpError(404, "not_found", f"no endpoint at {request.path}")
        origin = request.header("Origin")
        wanted = request.header("Access-Control-Request-Method")
        if origin and wanted:
            headers = self.cors.preflight(
                origin, wanted, request.header("Access-Control-Request-Headers")
            )
            if headers is None:
                raise HttpError(403, "cors_rejected", "cross-origin request not allowed")
            return Response(204, b"", None, headers)
        allow = ", ".join(sorted({*allowed, "OPTIONS", *(["HEAD"] if "GET" in allowed else [])}))
        return Response(204, b"", None, [("Allow", allow)])
