"""Sign-in: ``/api/v1/auth/login``, ``/logout`` and ``/me``."""

from __future__ import annotations

from modulacms.errors import RateLimited
from modulacms.http.api import STRING, Api, obj, ref
from modulacms.http.auth import credential, require_actor
from modulacms.http.body import Body
from modulacms.http.context import Context
from modulacms.http.handlers.common import ok
from modulacms.http.request import Request
from modulacms.http.responses import Response, json_response
from modulacms.http.schemas import jsonable

api = Api("auth")

LOGIN_RESULT = obj(
    ("token", "expires_at", "user", "permissions"),
    token=STRING,
    expires_at=STRING,
    user=ref("User"),
    permissions={"type": "array", "items": STRING},
)


def _cookie(ctx: Context, value: str, max_age: int) -> str:
    secure = "; Secure" if ctx.options.session_cookie_secure else ""
    return (
        f"{ctx.options.session_cookie}={value}; Path=/; Max-Age={max_age}; HttpOnly; "
        f"SameSite=Lax{secure}"
    )


@api.post(
    "/api/v1/auth/login",
    "Sign in with email and password; sets the session cookie",
    body=obj(("email", "password"), email=STRING, password=STRING),
    response=LOGIN_RESULT,
    errors=(400, 401, 415, 422, 429),
    description="At most 10 attempts per minute per client address, then 429.",
)
def login(request: Request, ctx: Context) -> Response:
    retry = ctx.login_limiter.hit(request.client_ip)
    if retry is not None:
        raise RateLimited("too many sign-in attempts; try again later", retry_after=int(retry) + 1)
    body = Body(request)
    email = body.text("email", required=True)
    password = body.text("password", required=True)
    body.done("cannot sign in")
    result = ctx.services.auth.login(
        email, password, ip=request.client_ip, user_agent=request.header("User-Agent")
    )
    ttl = ctx.services.auth.session_ttl
    data = {
        "token": result.token,
        "expires_at": result.session.expires_at,
        "user": jsonable(result.user),
        "permissions": sorted(result.actor.permissions),
    }
    return json_response(data, headers=[("Set-Cookie", _cookie(ctx, result.token, ttl))])


@api.post(
    "/api/v1/auth/logout",
    "End the current session and clear the cookie",
    permission="",
    status=204,
    errors=(401,),
)
def logout(request: Request, ctx: Context) -> Response:
    require_actor(request, ctx)
    ctx.services.auth.logout(credential(request, ctx))
    return Response(204, b"", None, [("Set-Cookie", _cookie(ctx, "", 0))])


@api.get(
    "/api/v1/auth/me",
    "The signed-in user and their permissions",
    permission="",
    response=obj(("user", "permissions"), user=ref("User"), permissions={"type": "array"}),
    errors=(401,),
)
def me(request: Request, ctx: Context) -> Response:
    actor = require_actor(request, ctx)
    user = ctx.services.users.get(actor.user_id or "", actor)
    return ok({"user": user, "permissions": sorted(actor.permissions)})
