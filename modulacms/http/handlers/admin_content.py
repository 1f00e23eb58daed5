"""Admin API for routes, their draft trees, publishing, versions and content nodes.

Every handler that changes what a route serves (publish, unpublish, rollback, route
rename or delete) drops that route's cached delivery bodies at once; edits made by other
processes are caught by the cache's change watcher.
"""

from __future__ import annotations

from typing import Any

from modulacms.errors import BadRequest
from modulacms.http.api import (
    ANY_OBJECT,
    INTEGER,
    LIMIT,
    OFFSET,
    STRING,
    Api,
    Param,
    listing_of,
    obj,
    ref,
)
from modulacms.http.auth import require
from modulacms.http.body import Body
from modulacms.http.context import Context
from modulacms.http.handlers.common import ok, page
from modulacms.http.request import Request
from modulacms.http.responses import JSON_TYPE, Response, dumps, no_content
from modulacms.services.delivery import check_format, render

api = Api("content")
P = "/api/v1/admin"
W = (401, 403)
ROUTE = f"{P}/routes/{{route}}"
NODE = f"{P}/content/{{id}}"
FORMAT = Param("format", {"type": "string"}, "delivery format (default clean)")
LOCALE = Param("locale", {"type": "string"}, "locale of the values (default: the base locale)")
POSITION = obj(parent_id=STRING, before=STRING, after=STRING)


def _route(request: Request, ctx: Context) -> Any:
    return ctx.services.routes.get(request.params["route"])


# routes ---------------------------------------------------------------------------------


@api.get(
    f"{P}/routes",
    "List routes",
    permission="routes:read",
    response=listing_of("Route"),
    query=(LIMIT, OFFSET),
    errors=(400, *W),
)
def list_routes(request: Request, ctx: Context) -> Response:
    require(request, ctx, "routes:read")
    return page(ctx.services.routes.list(), request)


@api.post(
    f"{P}/routes",
    "Create a route",
    permission="routes:create",
    status=201,
    body=obj(("slug",), slug=STRING, title=STRING),
    response=ref("Route"),
    errors=(400, 409, 415, 422, *W),
)
def create_route(request: Request, ctx: Context) -> Response:
    actor = require(request, ctx, "routes:create")
    body = Body(request)
    slug = body.text("slug", required=True)
    title = body.text("title", default="")
    body.done()
    return ok(ctx.services.routes.create(slug, actor, title=title), 201)


@api.get(
    ROUTE, "One route (by id)", permission="routes:read", response=ref("Route"), errors=(404, *W)
)
def get_route(request: Request, ctx: Context) -> Response:
    require(request, ctx, "routes:read")
    return ok(_route(request, ctx))


@api.patch(
    ROUTE,
    "Change a route's slug or title",
    permission="routes:update",
    body=obj(slug=STRING, title=STRING),
    response=ref("Route"),
    errors=(400, 404, 409, 415, 422, *W),
)
def update_route(request: Request, ctx: Context) -> Response:
    actor = require(request, ctx, "routes:update")
    body = Body(request)
    slug, title = body.text("slug"), body.text("title")
    body.done()
    route = ctx.services.routes.update(request.params["route"], actor, slug=slug, title=title)
    ctx.cache.invalidate_route(route.route_id)
    return ok(route)


@api.delete(
    ROUTE,
    "Delete a route (force=true also deletes its content)",
    permission="routes:delete",
    status=204,
    query=(Param("force", {"type": "boolean"}),),
    errors=(400, 404, 409, *W),
)
def delete_route(request: Request, ctx: Context) -> Response:
    actor = require(request, ctx, "routes:delete")
    route = _route(request, ctx)
    ctx.services.routes.delete(route.route_id, actor, force=request.bool_arg("force"))
    ctx.cache.invalidate_route(route.route_id)
    return no_content()


@api.get(
    f"{ROUTE}/tree",
    "The live draft tree of a route, rendered in a delivery format",
    permission="content:read",
    response=ANY_OBJECT,
    query=(FORMAT, LOCALE),
    errors=(400, 404, *W),
)
def draft_tree(request: Request, ctx: Context) -> Response:
    require(request, ctx, "content:read")
    fmt = check_format(request.arg("format") or "raw")
    tree = ctx.services.content.tree(request.params["route"], request.arg("locale") or "")
    return Response(200, dumps(render(tree, fmt)), JSON_TYPE)


# publishing -----------------------------------------------------------------------------


@api.post(
    f"{ROUTE}/publish",
    "Publish the route's draft tree as a new version",
    permission="content:publish",
    status=201,
    body=obj(note=STRING),
    response=ref("ContentVersion"),
    errors=(400, 404, 409, 415, 422, *W),
)
def publish(request: Request, ctx: Context) -> Response:
    actor = require(request, ctx, "content:publish")
    body = Body(request)
    note = body.text("note", default="")
    body.done()
    route = _route(request, ctx)
    version = ctx.services.publishing.publish(route.route_id, actor, note=note)
    ctx.cache.invalidate_route(route.route_id)
    return ok(version, 201)


@api.post(
    f"{ROUTE}/unpublish",
    "Stop serving the route",
    permission="content:publish",
    response=ref("Route"),
    errors=(404, 409, *W),
)
def unpublish(request: Request, ctx: Context) -> Response:
    actor = require(request, ctx, "content:publish")
    route = ctx.services.publishing.unpublish(request.params["route"], actor)
    ctx.cache.invalidate_route(route.route_id)
    return ok(route)


@api.post(
    f"{ROUTE}/schedule",
    "Publish the route at a future time",
    permission="content:publish",
    body=obj(("publish_at",), publish_at=STRING),
    response=ref("ContentNode"),
    errors=(400, 404, 409, 415, 422, *W),
)
def schedule(request: Request, ctx: Context) -> Response:
    actor = require(request, ctx, "content:publish")
    body = Body(request)
    at = body.text("publish_at", required=True)
    body.done()
    return ok(ctx.services.publishing.schedule(request.params["route"], at, actor))


@api.get(
    f"{ROUTE}/versions",
    "Published and autosaved versions, newest first",
    permission="content:read",
    response=listing_of("ContentVersion"),
    query=(LIMIT, OFFSET),
    errors=(400, 404, *W),
)
def versions(request: Request, ctx: Context) -> Response:
    require(request, ctx, "content:read")
    return page(ctx.services.publishing.versions(request.params["route"]), request)


def _version(request: Request) -> int:
    raw = request.params["version"]
    if not raw.isdigit():
        raise BadRequest(f"version must be a number, got {raw!r}")
    return int(raw)


@api.post(
    f"{ROUTE}/versions/{{version}}/restore",
    "Copy a version back into the draft tree",
    permission="content:update",
    response=ANY_OBJECT,
    errors=(400, 404, 409, *W),
)
def restore_version(request: Request, ctx: Context) -> Response:
    actor = require(request, ctx, "content:update")
    tree = ctx.services.publishing.restore(request.params["route"], _version(request), actor)
    ctx.cache.invalidate_route(tree.route.route_id)
    return Response(200, dumps(render(tree, "raw")), JSON_TYPE)


@api.post(
    f"{ROUTE}/versions/{{version}}/rollback",
    "Restore a version and publish it",
    permission="content:publish",
    status=201,
    response=ref("ContentVersion"),
    errors=(400, 404, 409, *W),
)
def rollback(request: Request, ctx: Context) -> Response:
    actor = require(request, ctx, "content:publish")
    version = ctx.services.publishing.rollback(request.params["route"], _version(request), actor)
    ctx.cache.invalidate_route(version.route_id)
    return ok(version, 201)


@api.post(
    f"{ROUTE}/heal",
    "Check the route's pointer chains; repair=true fixes them",
    permission="content:read",
    response=ref("HealReport"),
    query=(Param("repair", {"type": "boolean"}, "needs content:update"),),
    errors=(400, 404, *W),
)
def heal(request: Request, ctx: Context) -> Response:
    actor = require(request, ctx, "content:read")
    report = ctx.services.content.heal(
        actor, request.params["route"], repair=request.bool_arg("repair")
    )
    return ok(report)


# content nodes --------------------------------------------------------------------------


@api.post(
    f"{P}/content",
    "Create a node with its field values",
    permission="content:create",
    status=201,
    body={
        **obj(
            ("route", "datatype"),
            route=STRING,
            datatype=STRING,
            values=ANY_OBJECT,
            parent_id=STRING,
            before=STRING,
            after=STRING,
            locale=STRING,
        )
    },
    response=ref("CreatedContent"),
    errors=(400, 404, 409, 415, 422, *W),
)
def create_content(request: Request, ctx: Context) -> Response:
    actor = require(request, ctx, "content:create")
    body = Body(request)
    route = body.text("route", required=True)
    datatype = body.text("datatype", required=True)
    values = body.mapping("values") or {}
    position = {k: body.text(k) for k in ("parent_id", "before", "after")}
    locale = body.text("locale", default="")
    body.done()
    created = ctx.services.content.create(route, datatype, values, actor, locale=locale, **position)
    return ok(created, 201)


@api.get(
    f"{P}/content/trash",
    "Deleted subtrees waiting in the trash",
    permission="content:read",
    response=listing_of("TrashEntry"),
    query=(LIMIT, OFFSET),
    errors=(400, *W),
)
def trash(request: Request, ctx: Context) -> Response:
    require(request, ctx, "content:read")
    return page(ctx.services.content.trash(), request)


@api.get(
    NODE,
    "One node with its datatype, fields and values",
    permission="content:read",
    response=ref("ContentItem"),
    query=(LOCALE,),
    errors=(404, *W),
)
def get_content(request: Request, ctx: Context) -> Response:
    require(request, ctx, "content:read")
    return ok(ctx.services.content.item(request.params["id"], request.arg("locale") or ""))


@api.patch(
    NODE,
    "Update values; the revision read must still be current (else 409)",
    permission="content:update",
    body=obj(("values", "revision"), values=ANY_OBJECT, revision=INTEGER, locale=STRING),
    response=ref("ContentNode"),
    errors=(400, 404, 409, 415, 422, *W),
)
def update_content(request: Request, ctx: Context) -> Response:
    actor = require(request, ctx, "content:update")
    body = Body(request)
    values = body.mapping("values", required=True)
    revision = body.integer("revision", required=True)
    locale = body.text("locale", default="")
    body.done()
    node = ctx.services.content.update(request.params["id"], values, revision, actor, locale=locale)
    return ok(node)


@api.post(
    f"{NODE}/move",
    "Move a subtree (give one of parent_id, before, after)",
    permission="content:update",
    body=POSITION,
    response=ref("ContentNode"),
    errors=(400, 404, 409, 415, 422, *W),
)
def move(request: Request, ctx: Context) -> Response:
    actor = require(request, ctx, "content:update")
    body = Body(request)
    position = {k: body.text(k) for k in ("parent_id", "before", "after")}
    body.done()
    return ok(ctx.services.content.move(request.params["id"], actor, **position))


@api.get(
    f"{NODE}/children",
    "Children of a node in order",
    permission="content:read",
    response=listing_of("ContentNode"),
    query=(LIMIT, OFFSET),
    errors=(400, 404, *W),
)
def children(request: Request, ctx: Context) -> Response:
    require(request, ctx, "content:read")
    return page(ctx.services.content.children(request.params["id"]), request, 100)


@api.put(
    f"{NODE}/children",
    "Reorder the children of a node",
    permission="content:update",
    status=204,
    body=obj(("order",), order={"type": "array", "items": STRING}),
    errors=(400, 404, 409, 415, 422, *W),
)
def reorder(request: Request, ctx: Context) -> Response:
    actor = require(request, ctx, "content:update")
    body = Body(request)
    order = body.strings("order", required=True)
    body.done()
    ctx.services.content.reorder(request.params["id"], order, actor)
    return no_content()


@api.delete(
    NODE,
    "Delete a subtree to the trash",
    permission="content:delete",
    response=obj(("deleted",), deleted=INTEGER),
    errors=(404, 409, *W),
)
def delete_content(request: Request, ctx: Context) -> Response:
    actor = require(request, ctx, "content:delete")
    return ok({"deleted": ctx.services.content.delete(request.params["id"], actor)})


@api.post(
    f"{NODE}/restore",
    "Restore a subtree from the trash",
    permission="content:delete",
    response=ref("ContentNode"),
    errors=(404, 409, *W),
)
def restore_content(request: Request, ctx: Context) -> Response:
    actor = require(request, ctx, "content:delete")
    return ok(ctx.services.content.restore(request.params["id"], actor))


@api.delete(
    f"{NODE}/purge",
    "Delete a trashed subtree for good",
    permission="content:delete",
    response=obj(("deleted",), deleted=INTEGER),
    errors=(404, 409, *W),
)
def purge(request: Request, ctx: Context) -> Response:
    actor = require(request, ctx, "content:delete")
    return ok({"deleted": ctx.services.content.purge(request.params["id"], actor)})
