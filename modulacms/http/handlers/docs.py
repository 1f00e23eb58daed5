"""``GET /api/v1/openapi.json``: the OpenAPI document, rendered once per server."""

from __future__ import annotations

from modulacms.http.api import ANY_OBJECT, Api
from modulacms.http.context import Context
from modulacms.http.request import Request
from modulacms.http.responses import Response, dumps

api = Api("system")


@api.get(
    "/api/v1/openapi.json", "This API described as an OpenAPI 3.1 document", response=ANY_OBJECT
)
def openapi(request: Request, ctx: Context) -> Response:
    if ctx.openapi is None:
        from modulacms.http.openapi import document

        ctx.openapi = dumps(document(ctx.router, session_cookie=ctx.options.session_cookie))
    return Response(200, ctx.openapi, "application/json")
