"""Who is calling: ``Authorization: Bearer <token>`` or the session cookie.

The credential is resolved by ``services.auth.authenticate`` (API tokens and session
tokens both work as bearer values); the result is kept on the request so one request
authenticates once. A credential that is present but invalid is a 401, never a silent
anonymous request.
"""

from __future__ import annotations

from http.cookies import CookieError, SimpleCookie

from modulacms.core.models import Actor
from modulacms.errors import Unauthorized
from modulacms.http.context import Context
from modulacms.http.request import Request


def session_cookie(request: Request, name: str) -> str:
    """The value of cookie ``name`` ("" when absent or the header is unparsable)."""
    header = request.header("Cookie")
    if not header or name not in header:
        return ""
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(header)
    except CookieError:
        return ""
    morsel = jar.get(name)
    return morsel.value if morsel is not None else ""


def credential(request: Request, ctx: Context) -> str:
    """The bearer token or session cookie value of a request ("" when it has none)."""
    header = request.header("Authorization")
    if header:
        scheme, _, value = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise Unauthorized("Authorization header must be 'Bearer <token>'")
        return value.strip()
    return session_cookie(request, ctx.options.session_cookie)


def current_actor(request: Request, ctx: Context) -> Actor | None:
    """The authenticated actor, or ``None`` for an anonymous request."""
    if request.actor is not None:
        return request.actor
    secret = credential(request, ctx)
    if not secret:
        return None
    request.actor = ctx.services.auth.authenticate(secret)
    return request.actor


def require_actor(request: Request, ctx: Context) -> Actor:
    """The authenticated actor; 401 when the request carries no valid credential."""
    actor = current_actor(request, ctx)
    if actor is None:
        raise Unauthorized("sign in or send an API token (Authorization: Bearer ...)")
    return actor


def require(request: Request, ctx: Context, permission: str) -> Actor:
    """The actor, checked for ``permission`` (401 without credentials, 403 without it)."""
    actor = require_actor(request, ctx)
    actor.require(permission)
    return actor
