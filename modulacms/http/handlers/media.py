"""Media: the admin API (upload, list, edit, delete) and public file delivery.

Uploads are the raw file as the request body (any content type) with ``?filename=``;
they are bound by the server's body limit like any request.
"""

from __future__ import annotations

from modulacms.errors import NotFound
from modulacms.http.api import LIMIT, OFFSET, STRING, Api, Param, listing_of, obj, ref
from modulacms.http.auth import require
from modulacms.http.body import Body
from modulacms.http.cache import etag_matches
from modulacms.http.context import Context
from modulacms.http.handlers.common import listing, ok, window
from modulacms.http.request import Request
from modulacms.http.responses import Response, no_content

api = Api("media")
P = "/api/v1/admin/media"
W = (401, 403)


@api.get(
    P,
    "List media files",
    permission="media:read",
    response=listing_of("Media"),
    query=(Param("search", STRING), LIMIT, OFFSET),
    errors=(400, *W),
)
def list_media(request: Request, ctx: Context) -> Response:
    actor = require(request, ctx, "media:read")
    limit, offset = window(request)
    items, total = ctx.services.media.list(
        actor, search=request.arg("search"), limit=limit, offset=offset
    )
    return listing(items, total, limit, offset)


@api.post(
    P,
    "Upload a file (the request body is the file itself)",
    permission="media:create",
    status=201,
    body={"type": "string", "format": "binary"},
    body_type="application/octet-stream",
    response=ref("Media"),
    query=(
        Param("filename", STRING, "name of the file, with extension", True),
        Param("name", STRING),
        Param("alt", STRING),
    ),
    errors=(400, 413, 422, *W),
)
def upload(request: Request, ctx: Context) -> Response:
    actor = require(request, ctx, "media:create")
    media = ctx.services.media.add(
        request.body,
        request.arg("filename") or "",
        actor,
        name=request.arg("name") or "",
        alt=request.arg("alt") or "",
    )
    return ok(media, 201)


@api.get(
    f"{P}/{{id}}",
    "One media record",
    permission="media:read",
    response=ref("Media"),
    errors=(404, *W),
)
def get_media(request: Request, ctx: Context) -> Response:
    require(request, ctx, "media:read")
    return ok(ctx.services.media.get(request.params["id"]))


@api.patch(
    f"{P}/{{id}}",
    "Change a file's name or alt text",
    permission="media:update",
    body=obj(name=STRING, alt=STRING),
    response=ref("Media"),
    errors=(400, 404, 415, 422, *W),
)
def update_media(request: Request, ctx: Context) -> Response:
    actor = require(request, ctx, "media:update")
    body = Body(request)
    name, alt = body.text("name"), body.text("alt")
    body.done()
    return ok(ctx.services.media.update(request.params["id"], actor, name=name, alt=alt))


@api.delete(
    f"{P}/{{id}}",
    "Delete a file nothing refers to",
    permission="media:delete",
    status=204,
    errors=(404, 409, *W),
)
def delete_media(request: Request, ctx: Context) -> Response:
    actor = require(request, ctx, "media:delete")
    ctx.services.media.delete(request.params["id"], actor)
    return no_content()


@api.get(
    "/api/v1/media/{id}",
    "The bytes of a media file (public, cacheable)",
    content_type="*/*",
    response={"type": "string", "format": "binary"},
    errors=(304, 404),
)
def file(request: Request, ctx: Context) -> Response:
    media = ctx.services.media.get(request.params["id"])
    etag = f'"{media.media_id}-{media.size}"'
    headers = [("ETag", etag), ("Cache-Control", ctx.options.cache_control)]
    if etag_matches(request.header("If-None-Match"), etag):
        return Response(304, b"", None, headers)
    try:
        data = ctx.services.media.path(media).read_bytes()
    except OSError:
        raise NotFound("media file", media.media_id) from None
    return Response(200, data, media.mime_type, headers)
