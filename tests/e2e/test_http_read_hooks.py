"""Read hooks on ``GET /api/v1/content/{slug}`` behind the real server on 127.0.0.1.

The fixture plugins ``read_hooks_plugin`` (answers, state, headers, db use) and
``read_hooks_faulty`` (hooks that raise or loop) are loaded by a real plugin runtime;
their hooks are approved by writing to the database from a second connection, as
``modulacms plugin approve`` does from another process, and the server picks that up.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from modulacms.app import App, build_app
from modulacms.db.connection import Database
from modulacms.http.handlers.plugins import plugin_api
from modulacms.http.options import ServerOptions
from modulacms.http.runner import build_server
from modulacms.http.testing import Client, Reply, build_sample_site, wait_until_up
from modulacms.plugin_runtime.approvals import ApprovalStore
from modulacms.plugin_runtime.options import RuntimeOptions
from modulacms.plugin_runtime.runtime import PluginRuntime

PLUGINS = Path(__file__).resolve().parents[1] / "data" / "plugins"
HOME = "/api/v1/content/"
GOOD, FAULTY = "read_hooks_plugin", "read_hooks_faulty"
HOOK_TIMEOUT = 0.3


@dataclass
class Site:
    app: App
    client: Client
    set_hooks: Callable[[str, bool], None]

    def reads(self) -> list[str]:
        rows = self.app.db.execute("SELECT slug FROM plugin_read_hooks_plugin_reads")
        return [str(slug) for (slug,) in rows]


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    app = build_app(tmp_path / "site.db")
    build_sample_site(app.services, tree_nodes=3)
    plugins = tmp_path / "plugins"
    for name in (GOOD, FAULTY):
        shutil.copytree(PLUGINS / name, plugins / name)
    options = RuntimeOptions(max_vms=2, sync_interval=0.1, hook_timeout_ms=int(HOOK_TIMEOUT * 1000))
    runtime = PluginRuntime(app.db, app.services, plugins, options).start()
    app.plugins = runtime
    server = build_server(
        app.services,
        replace(ServerOptions(access_log=None), host="127.0.0.1", port=0),
        change_token=app.db.data_version,
        apis=[plugin_api(runtime)],
    )
    server.start()
    wait_until_up("127.0.0.1", server.port)
    client = Client("127.0.0.1", server.port)
    other = Database(tmp_path / "site.db")  # another process's view of the project
    approvals = ApprovalStore(other)

    def set_hooks(plugin: str, approved: bool) -> None:
        for event in ("before_read", "after_read"):
            assert approvals.set_hook(plugin, event, "content_data", approved, "test") == 1

    try:
        yield Site(app, client, set_hooks)
    finally:
        client.close()
        other.close()
        server.stop(grace=5.0)
        runtime.close()
        app.close()


def eventually(check: Callable[[], bool], seconds: float = 3.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if check():
            return True
        time.sleep(0.05)
    return False


def approve(site: Site, plugin: str, header: str) -> None:
    site.set_hooks(plugin, True)
    assert eventually(lambda: site.client.get(HOME).header(header) is not None)


def test_without_approved_read_hooks_the_page_is_served_untouched(site: Site) -> None:
    reply = site.client.get(HOME + "?gate=deny")
    assert reply.status == 200 and reply.json()["type"] == "page"
    assert reply.header("X-Read-Mark") is None and reply.header("X-Denied-By") is None
    assert site.reads() == []


def test_after_read_headers_join_the_cached_page_and_its_304(site: Site) -> None:
    before = site.client.get(HOME)
    approve(site, GOOD, "X-Read-Mark")
    reply = site.client.get(HOME, headers={"X-Reader": "alice"})
    assert reply.status == 200
    # the cached bytes and their validator are the page's own, not the hook's
    assert reply.body == before.body and reply.header("ETag") == before.header("ETag")
    assert reply.header("X-Read-Mark") == "seen / by alice"
    assert reply.header("Cache-Control") == "private, max-age=5"  # replaced, not doubled
    count = int(reply.header("X-Read-Count") or 0)
    assert count >= 2
    etag = reply.header("ETag") or ""
    again = site.client.get(HOME, headers={"If-None-Match": etag})
    assert again.status == 304 and again.body == b""
    assert again.header("ETag") == etag
    assert again.header("X-Read-Mark") == "seen / by anonymous"
    assert again.header("X-Read-Count") == str(count + 1)  # hooks ran for the 304 too
    tree = site.client.get("/api/v1/content/tree")
    assert tree.header("X-Read-Mark") == "seen /tree by anonymous"
    assert site.reads().count("/tree") == 1


def test_before_read_can_answer_instead_of_the_page(site: Site) -> None:
    approve(site, GOOD, "X-Read-Mark")
    denied = site.client.get(HOME + "?gate=deny")
    assert denied.status == 403
    assert denied.json() == {"error": "members only", "slug": "/", "ip": "127.0.0.1"}
    assert denied.header("X-Denied-By") == GOOD
    assert denied.header("Cache-Control") == "no-store"
    # protected and malformed headers never reach the wire
    assert denied.header("Set-Cookie") is None and denied.header("X-Split") is None
    assert denied.header("Injected") is None
    assert denied.header("X-Read-Mark") is None  # after_read does not run for an answer
    moved = site.client.get(HOME + "?gate=moved")
    assert moved.status == 302 and moved.body == b""
    assert moved.header("Location") == "/api/v1/content/tree"
    bogus = site.client.get(HOME + "?gate=bogus")  # status 42 is no HTTP status: ignored
    assert bogus.status == 200 and bogus.json()["type"] == "page"


def test_errors_around_read_hooks(site: Site) -> None:
    approve(site, GOOD, "X-Read-Mark")
    reads = len(site.reads())
    missing = site.client.get("/api/v1/content/no-such-page")
    assert missing.status == 404 and missing.json()["error"]["code"]
    assert missing.header("X-Read-Mark") is None
    assert site.reads()[reads:] == ["/no-such-page"]  # before_read saw the request
    bad = site.client.get(HOME + "?format=nonsense")
    assert bad.status == 400
    assert len(site.reads()) == reads + 1  # refused before any plugin code ran


def reply_of(site: Site, query: str) -> tuple[Reply, float]:
    started = time.monotonic()
    reply = site.client.get(HOME + query)
    return reply, time.monotonic() - started


def test_failing_and_looping_hooks_are_skipped_and_the_page_served(site: Site) -> None:
    page = site.client.get(HOME).body
    approve(site, GOOD, "X-Read-Mark")
    approve(site, FAULTY, "X-Faulty")

    reply, _ = reply_of(site, "")
    # every before_read hook gets the original data; the last successful one's table is
    # the state after_read sees, so the faulty plugin's (later, priority 100) wins
    assert reply.header("X-Faulty") == "passed" and reply.header("X-Read-Mark") == "no mark"

    for fault in ("error", "loop"):
        reply, took = reply_of(site, f"?fault={fault}")
        assert reply.status == 200 and reply.body == page
        assert reply.header("X-Read-Mark") == "seen / by anonymous"  # state of the good hook
        assert reply.header("X-Faulty") == "no state"
        if fault == "loop":
            assert took >= HOOK_TIMEOUT

    for fault in ("error", "loop"):
        reply, took = reply_of(site, f"?after={fault}")
        assert reply.status == 200 and reply.body == page
        assert reply.header("X-Faulty") is None
        assert reply.header("X-Read-Mark") == "no mark"
        if fault == "loop":
            assert took >= HOOK_TIMEOUT

    # the looping VMs were stopped and recycled: the hooks still answer normally
    reply, _ = reply_of(site, "")
    assert reply.header("X-Faulty") == "passed"


def test_revoking_brings_back_the_plain_page(site: Site) -> None:
    approve(site, GOOD, "X-Read-Mark")
    site.set_hooks(GOOD, False)
    assert eventually(lambda: site.client.get(HOME).header("X-Read-Mark") is None)
    reply = site.client.get(HOME + "?gate=deny")
    assert reply.status == 200 and reply.header("Cache-Control") != "private, max-age=5"
