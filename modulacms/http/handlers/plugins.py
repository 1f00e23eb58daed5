"""Plugin routes and the plugin admin API (spec §6, §12), mounted when plugins run.

:func:`plugin_api` builds the endpoint table for one running plugin runtime
(``modulacms.plugin_runtime.runtime.PluginRuntime``): every method under
``/api/v1/plugins/...`` goes to its bridge, which does the plugin-side checks and writes
the JSON error envelope itself; the admin endpoints list, reload, enable and disable
plugins and approve or revoke routes, hooks and outbound domains (changes are stored in
the database, as the CLI's are).
"""

from __future__ import annotations

import time
from typing import Any

from modulacms.errors import BadRequest, RateLimited, Unauthorized
from modulacms.http.api import Api
from modulacms.http.auth import current_actor, require
from modulacms.http.context import Context
from modulacms.http.request import Request
from modulacms.http.responses import Response, json_response

READ = "plugins:read"
ADMIN = "plugins:admin"
METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH")
OBJECT = {"type": "object"}


def plugin_api(runtime: Any) -> Api:
    """The endpoint table of ``runtime`` (plugin routes plus the admin API)."""
    api = Api("plugins")
    manager = runtime.manager
    bridge = runtime.bridge
    store = runtime.approvals

    def serve(request: Request, ctx: Context) -> Response:
        from modulacms.plugin_runtime.bridge import BridgeRequest

        def signed_in() -> bool:
            try:
                return current_actor(request, ctx) is not None
            except Unauthorized:
                return False

        answer = bridge.handle(
            BridgeRequest(
                method=request.method,
                path=request.path,
                query_string=request.query_string,
                headers=list(request.headers.items()),
                body=request.body,
                client_ip=request.client_ip,
                authenticate=signed_in,
                request_id=request.header("X-Request-ID") or None,
            )
        )
        headers = [(k, v) for k, v in answer.headers if k.lower() != "content-type"]
        return Response(answer.status, answer.body, answer.content_type, headers)

    for method in METHODS:
        api.route(
            method,
            "/api/v1/plugins/{rest:path}",
            "A plugin route (served only once approved)",
            response=OBJECT,
            errors=(401, 404, 429, 500, 503, 504),
        )(serve)

    @api.get("/api/v1/admin/plugins", "List plugins", permission=READ, response=OBJECT)
    def list_plugins(request: Request, ctx: Context) -> Response:
        require(request, ctx, READ)
        return json_response({"plugins": manager.summaries()})

    @api.get("/api/v1/admin/plugins/routes", "Plugin routes", permission=READ, response=OBJECT)
    def list_routes(request: Request, ctx: Context) -> Response:
        require(request, ctx, READ)
        rows = [
            {
                "plugin": r.plugin,
                "method": r.method,
                "path": r.path,
                "public": r.public,
                "approved": r.approved,
            }
            for r in store.routes()
        ]
        return json_response({"routes": rows})

    @api.get("/api/v1/admin/plugins/hooks", "Plugin hooks", permission=READ, response=OBJECT)
    def list_hooks(request: Request, ctx: Context) -> Response:
        require(request, ctx, READ)
        rows = [
            {
                "plugin_name": h.plugin,
                "event": h.event,
                "table": h.table,
                "priority": h.priority,
                "approved": h.approved,
                "is_wildcard": h.is_wildcard,
            }
            for h in store.hooks()
        ]
        return json_response({"hooks": rows})

    @api.get(
        "/api/v1/admin/plugins/requests",
        "Plugin outbound domains",
        permission=READ,
        response=OBJECT,
    )
    def list_requests(request: Request, ctx: Context) -> Response:
        require(request, ctx, READ)
        rows = [
            {
                "plugin_name": d.plugin,
                "domain": d.domain,
                "description": d.description,
                "approved": d.approved,
                "plugin_version": d.plugin_version,
            }
            for d in store.domains()
        ]
        return json_response({"requests": rows})

    def approval(kind: str, approved: bool) -> Any:
        def handler(request: Request, ctx: Context) -> Response:
            actor = require(request, ctx, ADMIN)
            body = request.json_object()
            items = body.get(kind)
            if not isinstance(items, list) or (kind != "routes" and not items):
                raise BadRequest(f'"{kind}" list required')
            errors = []
            for item in items:
                if not isinstance(item, dict):
                    raise BadRequest(f'"{kind}" entries must be objects')
                plugin = str(item.get("plugin", ""))
                if kind == "routes":
                    method, path = str(item.get("method", "")).upper(), str(item.get("path", ""))
                    if not store.set_route(plugin, method, path, approved, actor.name):
                        errors.append(f'route {method} {path} not found for plugin "{plugin}"')
                elif kind == "hooks":
                    store.set_hook(
                        plugin,
                        str(item.get("event", "")),
                        str(item.get("table", "")),
                        approved,
                        actor.name,
                    )
                else:
                    store.set_domain(plugin, str(item.get("domain", "")), approved, actor.name)
            if errors:
                return json_response({"errors": errors}, 400)
            manager.refresh_approvals(force=True)
            return json_response({"ok": True})

        return handler

    for kind in ("routes", "hooks", "requests"):
        for verb, flag in (("approve", True), ("revoke", False)):
            api.post(
                f"/api/v1/admin/plugins/{kind}/{verb}",
                f"{verb.capitalize()} plugin {kind}",
                permission=ADMIN,
                body=OBJECT,
                response=OBJECT,
                errors=(400, 401, 403),
            )(approval(kind, flag))

    @api.get(
        "/api/v1/admin/plugins/{name}",
        "One plugin",
        permission=READ,
        response=OBJECT,
        errors=(401, 403, 404),
    )
    def plugin_info(request: Request, ctx: Context) -> Response:
        require(request, ctx, READ)
        return json_response(manager.info(request.params["name"]))

    @api.post(
        "/api/v1/admin/plugins/{name}/reload",
        "Reload a plugin",
        permission=ADMIN,
        response=OBJECT,
        errors=(401, 403, 404, 429, 500),
    )
    def reload(request: Request, ctx: Context) -> Response:
        require(request, ctx, ADMIN)
        name = request.params["name"]
        manager.require(name)
        watcher = getattr(runtime, "watcher", None)
        last = manager.last_reload.get(name)
        if watcher is not None and last is not None:
            if time.monotonic() - last < watcher.cooldown:
                raise RateLimited("plugin was reloaded moments ago", retry_after=10)
        manager.reload(name)
        return json_response({"ok": True, "plugin": name})

    @api.post(
        "/api/v1/admin/plugins/{name}/enable",
        "Enable a plugin",
        permission=ADMIN,
        response=OBJECT,
        errors=(401, 403, 404, 500),
    )
    def enable(request: Request, ctx: Context) -> Response:
        actor = require(request, ctx, ADMIN)
        name = request.params["name"]
        instance = manager.activate(name, actor.name)
        return json_response({"ok": True, "plugin": name, "state": instance.state.value})

    @api.post(
        "/api/v1/admin/plugins/{name}/disable",
        "Disable a plugin",
        permission=ADMIN,
        response=OBJECT,
        errors=(401, 403, 404),
    )
    def disable(request: Request, ctx: Context) -> Response:
        require(request, ctx, ADMIN)
        name = request.params["name"]
        instance = manager.deactivate(name)
        return json_response({"ok": True, "plugin": name, "state": instance.state.value})

    return api
