"""Plugin routes and the plugin admin API (spec §6, §12), mounted when plugins run.

:func:`plugin_api` builds the endpoint table for one running plugin runtime
(``modulacms.plugin_runtime.runtime.PluginRuntime``): every method under
``/api/v1/plugins/...`` goes to its bridge, which does the plugin-side checks and writes
the JSON error envelope itself; the admin endpoints list, reload, enable and disable
plugins and approve or revoke routes, hooks and outbound domains (changes are stored in
the database, as the CLI's are); the pipeline registry, capability sync and orphaned
table cleanup go through ``PluginAdmin``, which the CLI uses too.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from modulacms.errors import BadRequest, ModulaError, RateLimited, Unauthorized
from modulacms.http.api import BOOLEAN, INTEGER, STRING, Api, Param, Schema, obj
from modulacms.http.auth import current_actor, require
from modulacms.http.context import Context
from modulacms.http.request import Request
from modulacms.http.responses import Response, json_response

READ = "plugins:read"
ADMIN = "plugins:admin"
METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH")
OBJECT = {"type": "object"}
STRINGS: Schema = {"type": "array", "items": STRING}
ENTRY = obj(
    ("plugin", "handler", "priority"),
    plugin=STRING,
    handler=STRING,
    priority=INTEGER,
    plugin_version=STRING,
)
PIPELINES = obj(
    ("pipelines", "count"),
    pipelines={
        "type": "array",
        "items": obj(
            ("key", "table", "op", "entries"),
            key=STRING,
            table=STRING,
            op=STRING,
            entries={"type": "array", "items": ENTRY},
        ),
    },
    count=INTEGER,
)
DRY_RUN = obj(
    ("key", "table", "op", "chain", "skipped", "count", "action"),
    key=STRING,
    table=STRING,
    op=STRING,
    chain={"type": "array", "items": ENTRY},
    skipped={"type": "array", "items": obj(("reason",), reason=STRING)},
    count=INTEGER,
    action=STRING,
)
ORPHANS = obj(
    ("orphaned_tables", "count", "action"), orphaned_tables=STRINGS, count=INTEGER, action=STRING
)
CLEANUP_BODY = obj(("confirm", "tables"), confirm=BOOLEAN, tables=STRINGS)
DROPPED = obj(
    ("dropped", "count", "skipped"),
    dropped=STRINGS,
    count=INTEGER,
    skipped={"type": "array", "items": obj(("table", "reason"), table=STRING, reason=STRING)},
)
SYNCED = obj(
    ("ok", "plugin", "version", "capabilities", "added", "removed"),
    ok=BOOLEAN,
    plugin=STRING,
    version=STRING,
    capabilities=INTEGER,
    added=STRINGS,
    removed=STRINGS,
    manifest_hash=STRING,
)

log = logging.getLogger(__name__)


def _entry(entry: Any) -> dict[str, Any]:
    return {
        "plugin": entry.plugin,
        "handler": entry.handler,
        "priority": entry.priority,
        "plugin_version": entry.plugin_version,
    }


def _with_drift(admin: Any, manager: Any, data: dict[str, Any]) -> dict[str, Any]:
    """``data`` (one plugin's info or summary) with ``manifest_drift`` and, when the
    stored capabilities differ from the running manifest, ``capability_drift``."""
    instance = manager.instance(data["name"])
    if instance is None:
        return data
    try:
        drift = admin.capability_drift(instance.manifest)
    except ModulaError as exc:
        log.warning("reading the drift of plugin %s failed: %s", data["name"], exc.message)
        return data
    if drift["manifest_drift"]:
        data["manifest_drift"] = True
    changes = drift["capability_drift"]
    if changes["added"] or changes["removed"]:
        data["capability_drift"] = changes
    return data


def plugin_api(runtime: Any) -> Api:
    """The endpoint table of ``runtime`` (plugin routes plus the admin API)."""
    from modulacms.plugin_runtime.admin import PluginAdmin

    api = Api("plugins")
    manager = runtime.manager
    bridge = runtime.bridge
    store = runtime.approvals
    admin = PluginAdmin(manager.plugin_dir, runtime.db, runtime.services, runtime.options)
    synced: dict[str, float] = {}

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
        plugins = [_with_drift(admin, manager, p) for p in manager.summaries()]
        return json_response({"plugins": plugins})

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
        "/api/v1/admin/plugins/cleanup",
        "Orphaned plugin tables (dry run)",
        permission=ADMIN,
        response=ORPHANS,
        errors=(401, 403),
    )
    def list_orphans(request: Request, ctx: Context) -> Response:
        require(request, ctx, ADMIN)
        tables = admin.orphaned_tables()
        return json_response({"orphaned_tables": tables, "count": len(tables), "action": "dry_run"})

    @api.post(
        "/api/v1/admin/plugins/cleanup",
        "Drop orphaned plugin tables",
        permission=ADMIN,
        body=CLEANUP_BODY,
        response=DROPPED,
        errors=(400, 401, 403),
        description="Each named table is re-checked and dropped only if it is still a "
        "plugin table that no plugin in the plugin directory owns; others are listed "
        "under skipped with the reason.",
    )
    def drop_orphans(request: Request, ctx: Context) -> Response:
        require(request, ctx, ADMIN)
        body = request.json_object()
        tables = body.get("tables")
        if body.get("confirm") is not True:
            raise BadRequest('"confirm": true is required to drop tables')
        if not isinstance(tables, list) or not tables:
            raise BadRequest('"tables" list required')
        if not all(isinstance(t, str) for t in tables):
            raise BadRequest('"tables" entries must be strings')
        dropped, refused = admin.drop_orphaned_tables(tables)
        skipped = [{"table": r.table, "reason": r.reason} for r in refused]
        return json_response({"dropped": dropped, "count": len(dropped), "skipped": skipped})

    @api.get(
        "/api/v1/admin/pipelines",
        "The pipeline registry",
        permission=READ,
        response=PIPELINES,
        errors=(401, 403),
    )
    def list_pipelines(request: Request, ctx: Context) -> Response:
        require(request, ctx, READ)
        groups: dict[str, dict[str, Any]] = {}
        entries = admin.pipelines()
        for entry in entries:
            group = groups.setdefault(
                entry.key, {"key": entry.key, "table": entry.table, "op": entry.op, "entries": []}
            )
            group["entries"].append(_entry(entry))
        return json_response({"pipelines": list(groups.values()), "count": len(entries)})

    @api.get(
        "/api/v1/admin/pipelines/dry-run",
        "The chain one table and operation would run",
        permission=READ,
        response=DRY_RUN,
        query=(
            Param("table", {"type": "string"}, "table name, e.g. content_data", required=True),
            Param("op", {"type": "string"}, "operation, e.g. before_create", required=True),
        ),
        errors=(400, 401, 403),
        description="Nothing is executed: the registry is metadata, as in the original.",
    )
    def dry_run(request: Request, ctx: Context) -> Response:
        require(request, ctx, READ)
        run = admin.pipelines_dry_run(request.arg("table") or "", request.arg("op") or "")
        return json_response(
            {
                "key": f"{run.table}.{run.op}",
                "table": run.table,
                "op": run.op,
                "chain": [_entry(e) for e in run.chain],
                "skipped": [{**_entry(e), "reason": why} for e, why in run.skipped],
                "count": len(run.chain),
                "action": "dry_run",
            }
        )

    @api.get(
        "/api/v1/admin/plugins/{name}",
        "One plugin",
        permission=READ,
        response=OBJECT,
        errors=(401, 403, 404),
    )
    def plugin_info(request: Request, ctx: Context) -> Response:
        require(request, ctx, READ)
        return json_response(_with_drift(admin, manager, manager.info(request.params["name"])))

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
        "/api/v1/admin/plugins/{name}/sync-capabilities",
        "Rewrite a plugin's pipelines and manifest hash from disk",
        permission=ADMIN,
        response=SYNCED,
        errors=(401, 403, 404, 422, 429),
    )
    def sync_capabilities(request: Request, ctx: Context) -> Response:
        require(request, ctx, ADMIN)
        name = request.params["name"]
        watcher = getattr(runtime, "watcher", None)
        last = synced.get(name)
        if watcher is not None and last is not None:
            if time.monotonic() - last < watcher.cooldown:
                raise RateLimited("capabilities were synced moments ago", retry_after=10)
        result = admin.sync_capabilities(name)
        synced[name] = time.monotonic()
        return json_response(
            {
                "ok": True,
                "plugin": name,
                "version": result.version,
                "capabilities": result.count,
                "added": list(result.added),
                "removed": list(result.removed),
                "manifest_hash": result.manifest_hash,
            }
        )

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
