"""The pipeline registry, capability sync and orphaned table cleanup endpoints on a real
server on 127.0.0.1 with real plugins, and their OpenAPI description checked by
schemathesis."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from modulacms.app import App, build_app
from modulacms.db.plugin_store import PluginStore
from modulacms.http.handlers.plugins import plugin_api
from modulacms.http.options import ServerOptions
from modulacms.http.runner import build_server
from modulacms.http.testing import Client, make_people, wait_until_up
from modulacms.plugin_runtime.options import RuntimeOptions
from modulacms.plugin_runtime.runtime import PluginRuntime

PLUGINS = Path(__file__).resolve().parents[1] / "data" / "plugins"
A = "/api/v1/admin"
NOTES = {"columns": [{"name": "body", "type": "text"}]}
MINE = {
    f"{A}/plugins/{{name}}/sync-capabilities",
    f"{A}/plugins/cleanup",
    f"{A}/pipelines",
    f"{A}/pipelines/dry-run",
}


@dataclass
class Site:
    app: App
    runtime: PluginRuntime
    client: Client
    tokens: dict[str, str]
    plugins: Path

    def status_as(self, role: str, method: str, url: str) -> int:
        """The status ``role``'s token gets for ``method url``."""
        other = Client("127.0.0.1", self.client.port)
        other.token = self.tokens[role]
        try:
            reply = other.get(url) if method == "GET" else other.post(url, {})
            return reply.status
        finally:
            other.close()


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    app = build_app(tmp_path / "site.db")
    tokens = make_people(app.services)
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    for name in ("pipeline_plugin", "pipeline_rival"):
        shutil.copytree(PLUGINS / name, plugins / name)
    runtime = PluginRuntime(
        app.db, app.services, plugins, RuntimeOptions(max_vms=1, sync_interval=0.2)
    ).start()
    app.plugins = runtime
    server = build_server(
        app.services,
        replace(ServerOptions(access_log=None), host="127.0.0.1", port=0),
        apis=[plugin_api(runtime)],
    )
    server.start()
    wait_until_up("127.0.0.1", server.port)
    client = Client("127.0.0.1", server.port)
    client.token = tokens["admin"]
    try:
        yield Site(app, runtime, client, tokens, plugins)
    finally:
        client.close()
        server.stop(grace=5.0)
        app.close()


def test_capabilities_of_discovered_plugins_are_listed(site: Site) -> None:
    reply = site.client.get(f"{A}/pipelines")
    assert reply.status == 200
    body = reply.json()
    assert body["count"] == 4
    keys = [g["key"] for g in body["pipelines"]]
    assert keys == ["content_data.after_publish", "content_data.before_create"]
    before_create = body["pipelines"][1]["entries"]
    assert [(e["plugin"], e["handler"], e["priority"]) for e in before_create] == [
        ("pipeline_plugin", "stamp_slug", 10),
        ("pipeline_rival", "audit", 10),
        ("pipeline_plugin", "check_title", 50),
    ]
    assert site.status_as("viewer", "GET", f"{A}/pipelines") == 403


def test_dry_run_lists_the_chain_and_skips_disabled_plugins(site: Site) -> None:
    url = f"{A}/pipelines/dry-run?table=content_data&op=before_create"
    body = site.client.get(url).json()
    assert body["key"] == "content_data.before_create" and body["action"] == "dry_run"
    assert [e["handler"] for e in body["chain"]] == ["stamp_slug", "audit", "check_title"]
    assert body["count"] == 3 and body["skipped"] == []
    site.runtime.approvals.set_status("pipeline_rival", "disabled")
    body = site.client.get(url).json()
    assert [e["handler"] for e in body["chain"]] == ["stamp_slug", "check_title"]
    assert [(e["handler"], e["reason"]) for e in body["skipped"]] == [("audit", "plugin disabled")]
    reply = site.client.get(f"{A}/pipelines/dry-run?table=content_data")
    assert reply.status == 400 and reply.json()["error"]["code"] == "bad_request"


def test_sync_capabilities_rewrites_from_disk(site: Site) -> None:
    init = site.plugins / "pipeline_plugin" / "init.lua"
    init.write_text(init.read_text().replace('handler = "notify"', 'handler = "announce"'))
    reply = site.client.post(f"{A}/plugins/pipeline_plugin/sync-capabilities")
    assert reply.status == 200
    body = reply.json()
    assert body["ok"] is True and body["plugin"] == "pipeline_plugin"
    assert body["capabilities"] == 3 and body["version"] == "1.2.0"
    assert body["added"] == ["content_data.after_publish:announce"]
    assert body["removed"] == ["content_data.after_publish:notify"]
    listed = site.client.get(f"{A}/pipelines").json()["pipelines"][0]["entries"]
    assert [e["handler"] for e in listed] == ["announce"]
    reply = site.client.post(f"{A}/plugins/nope/sync-capabilities")
    assert reply.status == 404 and reply.json()["error"]["code"] == "not_found"
    assert site.status_as("editor", "POST", f"{A}/plugins/pipeline_plugin/sync-capabilities") == 403


def test_plugin_info_reports_drift_between_the_running_manifest_and_the_registry(
    site: Site,
) -> None:
    info = site.client.get(f"{A}/plugins/pipeline_plugin").json()
    assert "manifest_drift" not in info and "capability_drift" not in info
    init = site.plugins / "pipeline_plugin" / "init.lua"
    init.write_text(init.read_text().replace('handler = "notify"', 'handler = "announce"'))
    site.runtime.manager.reload("pipeline_plugin")
    info = site.client.get(f"{A}/plugins/pipeline_plugin").json()
    assert info["manifest_drift"] is True
    assert info["capability_drift"] == {
        "added": ["content_data.after_publish:announce"],
        "removed": ["content_data.after_publish:notify"],
    }
    listed = {p["name"]: p for p in site.client.get(f"{A}/plugins").json()["plugins"]}
    assert listed["pipeline_plugin"]["manifest_drift"] is True
    assert "manifest_drift" not in listed["pipeline_rival"]
    assert site.client.post(f"{A}/plugins/pipeline_plugin/sync-capabilities").status == 200
    info = site.client.get(f"{A}/plugins/pipeline_plugin").json()
    assert "manifest_drift" not in info and "capability_drift" not in info


def test_cleanup_lists_and_drops_only_orphans(site: Site) -> None:
    store = PluginStore(site.app.db)
    store.define_table("gone", "items", NOTES)
    store.define_table("pipeline_plugin", "notes", NOTES)
    assert site.status_as("editor", "GET", f"{A}/plugins/cleanup") == 403
    assert site.client.get(f"{A}/plugins/cleanup").json() == {
        "orphaned_tables": ["plugin_gone_items"],
        "count": 1,
        "action": "dry_run",
    }
    tables = ["plugin_gone_items", "plugin_pipeline_plugin_notes", "plugin_hooks", "users"]
    for body in ({"tables": tables}, {"confirm": False, "tables": tables}, {"confirm": True}):
        reply = site.client.post(f"{A}/plugins/cleanup", body)
        assert reply.status == 400 and reply.json()["error"]["code"] == "bad_request"
    reply = site.client.post(f"{A}/plugins/cleanup", {"confirm": True, "tables": tables})
    assert reply.status == 200
    assert reply.json() == {
        "dropped": ["plugin_gone_items"],
        "count": 1,
        "skipped": [
            {
                "table": "plugin_pipeline_plugin_notes",
                "reason": 'owned by plugin "pipeline_plugin"',
            },
            {"table": "plugin_hooks", "reason": "core table"},
            {"table": "users", "reason": "core table"},
        ],
    }
    left = {n for (n,) in site.app.db.execute("SELECT name FROM sqlite_master")}
    assert "plugin_gone_items" not in left
    assert {"plugin_pipeline_plugin_notes", "plugin_hooks", "users"} <= left
    assert site.client.get(f"{A}/plugins/cleanup").json()["count"] == 0


def test_openapi_describes_the_endpoints_and_schemathesis_agrees(site: Site) -> None:
    document = site.client.get("/api/v1/openapi.json").json()
    paths = document["paths"]
    assert MINE <= set(paths)
    assert set(paths[f"{A}/plugins/cleanup"]) == {"get", "post"}
    dry_run = paths[f"{A}/pipelines/dry-run"]["get"]
    assert {p["name"] for p in dry_run["parameters"] if p["required"]} == {"table", "op"}
    schema = schemathesis.openapi.from_dict(document)
    headers = {"Authorization": f"Bearer {site.tokens['admin']}"}
    base_url = f"http://127.0.0.1:{site.client.port}"
    checks = [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
    ]
    failures: list[str] = []
    exercised = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path not in MINE:
            continue
        exercised += 1

        @settings(
            max_examples=8,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def exercise(case: schemathesis.Case) -> None:
            case.call_and_validate(base_url=base_url, headers=headers, checks=checks)

        try:
            exercise()
        except Exception as exc:  # report every operation's failure together
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    assert exercised == 5
    assert not failures, "\n\n".join(failures)
