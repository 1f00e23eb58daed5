"""Public delivery: ``GET /api/v1/content/{slug}`` in every format, cached by ETag.

Read hooks (spec §7.5). When the services' hook dispatcher offers read hooks
(``reads``, see :mod:`modulacms.core.events`) and one is approved for ``content_data``,
every request runs them, cached page or not, because they decide per caller (headers,
address, query). Bad ``format``/``locale``/``preview`` values are refused with 400 before
any plugin code runs. ``before_read`` runs first: a hook's answer replaces the page (its
status, checked headers, ``Cache-Control: no-store`` unless the hook sets one, and its
JSON body if any). Otherwise the page is served exactly as without hooks (the same cached
bytes and strong ETag, 304 on a match, 404 for an unknown slug) and ``after_read`` runs for
a 200 or 304: its headers are added to this response only, replacing a same-named one
(``Cache-Control`` included), and never become part of the cached entry or its ETag.
A hook that fails or runs out of time is skipped and the page is served. Without an
approved read hook the cached path costs one attribute lookup more than it did.
"""

from __future__ import annotations

import re
from typing import Any

from modulacms.core.events import ReadAnswer, ReadHooks, ReadRequest
from modulacms.errors import BadRequest, NotFound
from modulacms.http.api import ANY_OBJECT, Api, Param
from modulacms.http.auth import require_actor
from modulacms.http.cache import etag_matches
from modulacms.http.context import Context
from modulacms.http.request import Request
from modulacms.http.responses import JSON_TYPE, Response, dumps
from modulacms.services.delivery import FORMATS, check_format, render

_LOCALE = re.compile(r"^[A-Za-z]{2,8}(?:[-_][A-Za-z0-9]{1,8}){0,3}$")


def _locale(request: Request) -> str:
    locale = request.arg("locale") or ""
    if locale and not _LOCALE.match(locale):
        raise BadRequest(f"locale {locale!r} is not a language tag like en or pt-BR")
    return locale


api = Api("delivery")


@api.get(
    "/api/v1/content/{slug:path}",
    "The published tree of a route (preview=true: the live draft, signed in)",
    response={"anyOf": [ANY_OBJECT, {"type": "null"}]},
    query=(
        Param("format", {"type": "string", "enum": list(FORMATS)}, "default clean"),
        Param("locale", {"type": "string"}, "language tag; falls back to the base locale"),
        Param("preview", {"type": "boolean"}, "render the draft (needs content:read)"),
    ),
    errors=(304, 400, 401, 403, 404),
    description=(
        "`{slug}` is the route's slug without its leading slash and may contain slashes "
        "(`/api/v1/content/blog/hello`); the site root `/` is `/api/v1/content/`. Responses "
        "carry a strong ETag; If-None-Match gives 304. Approved plugin read hooks may answer "
        "instead (status 200-599) or add headers."
    ),
)
def deliver(request: Request, ctx: Context) -> Response:
    """The published tree of a route (or, with ``preview=true``, its live draft)."""
    slug = "/" + request.params.get("slug", "")
    fmt = check_format(request.arg("format"))
    locale = _locale(request)
    preview = request.bool_arg("preview")
    reads: ReadHooks | None = getattr(ctx.services.content.hooks, "reads", None)
    if reads is not None and reads.active():
        return _with_read_hooks(reads, request, ctx, slug, fmt, locale, preview)
    if preview:
        return _preview(request, ctx, slug, fmt, locale)
    return _published(request, ctx, slug, fmt, locale)


def _published(request: Request, ctx: Context, slug: str, fmt: str, locale: str) -> Response:
    key = ("", slug, fmt, locale)
    entry = ctx.cache.get(key)
    if entry is None:
        ctx.metrics.cache(False)
        generation = ctx.cache.generation
        tree = ctx.services.publishing.snapshot(slug, None, locale)
        route = tree.route
        body = dumps(render(tree, fmt))
        entry = ctx.cache.put(
            key, body, route.route_id, route.slug, route.published_version_id or "", generation
        )
    else:
        ctx.metrics.cache(True)
    headers = [("ETag", entry.etag), ("Cache-Control", ctx.options.cache_control)]
    if etag_matches(request.header("If-None-Match"), entry.etag):
        return Response(304, b"", None, headers)
    return Response(200, entry.body, JSON_TYPE, headers)


def _with_read_hooks(
    reads: ReadHooks,
    request: Request,
    ctx: Context,
    slug: str,
    fmt: str,
    locale: str,
    preview: bool,
) -> Response:
    headers: dict[str, str] = {}
    for name, value in request.headers.items():
        headers.setdefault(name.lower(), value)
    query = {name: values[0] for name, values in request.query.items() if values}
    read = ReadRequest(slug, headers, request.client_ip, query)
    answer, state = reads.before_read(read)
    if answer is not None:
        return _answer(answer)
    if preview:
        response = _preview(request, ctx, slug, fmt, locale)
    else:
        response = _published(request, ctx, slug, fmt, locale)
    extra = reads.after_read(read, state)
    if extra:
        replaced = {name.lower() for name, _ in extra}
        kept = [(k, v) for k, v in response.headers if k.lower() not in replaced]
        response = Response(response.status, response.body, response.content_type, kept + extra)
    return response


def _answer(answer: ReadAnswer) -> Response:
    """A ``before_read`` hook's response, sent instead of the page."""
    headers = list(answer.headers)
    if not any(k.lower() == "cache-control" for k, _ in headers):
        headers.append(("Cache-Control", "no-store"))
    if answer.body is None:
        return Response(answer.status, b"", None, headers)
    return Response(answer.status, dumps(answer.body), JSON_TYPE, headers)


def _preview(request: Request, ctx: Context, slug: str, fmt: str, locale: str) -> Response:
    actor = require_actor(request, ctx)
    actor.require("content:read")
    tree = ctx.services.content.tree(slug, locale)
    if tree.root is None:
        raise NotFound("content", slug, f"route {tree.route.slug} has no content yet")
    return Response(
        200, dumps(render(tree, fmt)), JSON_TYPE, [("Cache-Control", "private, no-store")]
    )


def route_state(services: Any, route_ids: list[str]) -> dict[str, tuple[str, str | None]]:
    """``{route_id: (slug, published_version_id)}`` of the routes that still exist."""
    state: dict[str, tuple[str, str | None]] = {}
    for route_id in route_ids:
        try:
            route = services.routes.get(route_id)
        except NotFound:
            continue
        state[route_id] = (route.slug, route.published_version_id)
    return state
