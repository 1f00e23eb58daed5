"""Admin API for users, roles, the permission catalogue and API tokens."""

from __future__ import annotations

from modulacms.http.api import (
    BOOLEAN,
    LIMIT,
    OFFSET,
    STRING,
    Api,
    Param,
    listing_of,
    obj,
    ref,
)
from modulacms.http.auth import require, require_actor
from modulacms.http.body import Body
from modulacms.http.context import Context
from modulacms.http.handlers.common import listing, ok, page, window
from modulacms.http.request import Request
from modulacms.http.responses import Response, no_content

api = Api("people")
P = "/api/v1/admin"
W = (401, 403)
USER = f"{P}/users/{{id}}"
ROLE = f"{P}/roles/{{name}}"
STRINGS = {"type": "array", "items": STRING}


@api.get(
    f"{P}/users",
    "List users",
    permission="users:read",
    response=listing_of("User"),
    query=(Param("search", STRING), Param("role", STRING), Param("active", BOOLEAN), LIMIT, OFFSET),
    errors=(400, 404, *W),
)
def list_users(request: Request, ctx: Context) -> Response:
    actor = require(request, ctx, "users:read")
    limit, offset = window(request)
    active = request.bool_arg("active") if request.arg("active") else None
    users, total = ctx.services.users.list(
        actor,
        search=request.arg("search"),
        role=request.arg("role"),
        active=active,
        limit=limit,
        offset=offset,
    )
    return listing(users, total, limit, offset)


@api.post(
    f"{P}/users",
    "Create a user",
    permission="users:create",
    status=201,
    body=obj(
        ("email", "password"),
        email=STRING,
        password=STRING,
        name=STRING,
        role=STRING,
        is_active=BOOLEAN,
    ),
    response=ref("User"),
    errors=(400, 404, 409, 415, 422, *W),
)
def create_user(request: Request, ctx: Context) -> Response:
    actor = require(request, ctx, "users:create")
    body = Body(request)
    email = body.text("email", required=True)
    password = body.text("password", required=True)
    name = body.text("name", default="")
    role = body.text("role", default="viewer")
    active = body.boolean("is_active", default=True)
    body.done()
    user = ctx.services.users.create(email, password, actor, name=name, role=role, is_active=active)
    return ok(user, 201)


@api.get(
    USER,
    "One user (everyone may read their own record)",
    permission="",
    response=ref("User"),
    errors=(404, *W),
)
def get_user(request: Request, ctx: Context) -> Response:
    actor = require_actor(request, ctx)
    return ok(ctx.services.users.get(request.params["id"], actor))


@api.patch(
    USER,
    "Change a user's email, name, role or active flag",
    permission="users:update",
    body=obj(email=STRING, name=STRING, role=STRING, is_active=BOOLEAN),
    response=ref("User"),
    errors=(400, 404, 409, 415, 422, *W),
)
def update_user(request: Request, ctx: Context) -> Response:
    actor = require_actor(request, ctx)
    body = Body(request)
    email, name, role = body.text("email"), body.text("name"), body.text("role")
    active = body.boolean("is_active")
    body.done()
    user = ctx.services.users.update(
        request.params["id"], actor, email=email, name=name, role=role, is_active=active
    )
    return ok(user)


@api.post(
    f"{USER}/password",
    "Set a password (one's own needs current_password)",
    permission="",
    status=204,
    body=obj(("password",), password=STRING, current_password=STRING),
    errors=(400, 404, 415, 422, *W),
)
def set_password(request: Request, ctx: Context) -> Response:
    actor = require_actor(request, ctx)
    body = Body(request)
    password = body.text("password", required=True)
    current = body.text("current_password")
    body.done()
    ctx.services.users.set_password(request.params["id"], password, actor, current_password=current)
    return no_content()


@api.delete(USER, "Delete a user", permission="users:delete", status=204, errors=(404, 409, *W))
def delete_user(request: Request, ctx: Context) -> Response:
    actor = require_actor(request, ctx)
    ctx.services.users.delete(request.params["id"], actor)
    return no_content()


@api.get(
    f"{P}/roles",
    "List roles",
    permission="roles:read",
    response=listing_of("Role"),
    query=(LIMIT, OFFSET),
    errors=(400, *W),
)
def list_roles(request: Request, ctx: Context) -> Response:
    actor = require_actor(request, ctx)
    return page(ctx.services.users.roles(actor), request)


@api.post(
    f"{P}/roles",
    "Create a role",
    permission="roles:create",
    status=201,
    body=obj(("name",), name=STRING, label=STRING, permissions=STRINGS),
    response=ref("Role"),
    errors=(400, 409, 415, 422, *W),
)
def create_role(request: Request, ctx: Context) -> Response:
    actor = require_actor(request, ctx)
    body = Body(request)
    name = body.text("name", required=True)
    label = body.text("label", default="")
    permissions = body.strings("permissions") or []
    body.done()
    return ok(
        ctx.services.users.create_role(name, actor, label=label, permissions=permissions), 201
    )


@api.get(ROLE, "One role", permission="roles:read", response=ref("Role"), errors=(404, *W))
def get_role(request: Request, ctx: Context) -> Response:
    actor = require_actor(request, ctx)
    return ok(ctx.services.users.role(request.params["name"], actor))


@api.patch(
    ROLE,
    "Change a role's label or permissions",
    permission="roles:update",
    body=obj(label=STRING, permissions=STRINGS),
    response=ref("Role"),
    errors=(400, 404, 409, 415, 422, *W),
)
def update_role(request: Request, ctx: Context) -> Response:
    actor = require_actor(request, ctx)
    body = Body(request)
    label, permissions = body.text("label"), body.strings("permissions")
    body.done()
    role = ctx.services.users.update_role(
        request.params["name"], actor, label=label, permissions=permissions
    )
    return ok(role)


@api.delete(
    ROLE,
    "Delete a custom role nobody holds",
    permission="roles:delete",
    status=204,
    errors=(404, 409, *W),
)
def delete_role(request: Request, ctx: Context) -> Response:
    actor = require_actor(request, ctx)
    ctx.services.users.delete_role(request.params["name"], actor)
    return no_content()


@api.get(
    f"{P}/permissions",
    "The permission catalogue",
    permission="roles:read",
    response=listing_of("Permission"),
    query=(LIMIT, OFFSET),
    errors=(400, *W),
)
def permissions(request: Request, ctx: Context) -> Response:
    actor = require_actor(request, ctx)
    return page(ctx.services.users.permissions(actor), request, 100)


@api.get(
    f"{P}/tokens",
    "API tokens: one's own, or a user's / everyone's with tokens:admin",
    permission="tokens:read",
    response=listing_of("Token"),
    query=(Param("user_id", STRING), Param("all", BOOLEAN), LIMIT, OFFSET),
    errors=(400, *W),
)
def list_tokens(request: Request, ctx: Context) -> Response:
    actor = require_actor(request, ctx)
    user_id = request.arg("user_id") or (None if request.bool_arg("all") else actor.user_id)
    return page(ctx.services.auth.tokens(actor, user_id=user_id), request)


@api.post(
    f"{P}/tokens",
    "Create an API token (its secret is shown once)",
    permission="tokens:create",
    status=201,
    body=obj(("name",), name=STRING, user_id=STRING, expires_at=STRING),
    response=ref("TokenCreated"),
    errors=(400, 404, 409, 415, 422, *W),
)
def create_token(request: Request, ctx: Context) -> Response:
    actor = require_actor(request, ctx)
    body = Body(request)
    name = body.text("name", required=True)
    user_id = body.text("user_id")
    expires_at = body.text("expires_at")
    body.done()
    created = ctx.services.auth.create_token(name, actor, user_id=user_id, expires_at=expires_at)
    return ok(created, 201)


@api.get(
    f"{P}/tokens/{{id}}",
    "One API token (never its secret)",
    permission="tokens:read",
    response=ref("Token"),
    errors=(404, *W),
)
def get_token(request: Request, ctx: Context) -> Response:
    actor = require_actor(request, ctx)
    return ok(ctx.services.auth.token(request.params["id"], actor))


@api.delete(
    f"{P}/tokens/{{id}}",
    "Revoke an API token",
    permission="tokens:delete",
    response=ref("Token"),
    errors=(404, *W),
)
def revoke_token(request: Request, ctx: Context) -> Response:
    actor = require_actor(request, ctx)
    return ok(ctx.services.auth.revoke_token(request.params["id"], actor))
