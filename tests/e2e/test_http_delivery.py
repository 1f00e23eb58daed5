"""Public delivery over HTTP: formats, ETags, invalidation (also from another process)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from modulacms.app import App, build_app
from modulacms.http.options import ServerOptions
from modulacms.http.server import ModulaServer
from modulacms.http.testing import Client, build_sample_site, make_people, running_server

SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "spec" / "delivery-samples"


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    with build_app(tmp_path / "site.db") as opened:
        build_sample_site(opened.services, tree_nodes=15)
        yield opened


@pytest.fixture
def tokens(app: App) -> dict[str, str]:
    return make_people(app.services)


@pytest.fixture
def server(app: App) -> Iterator[ModulaServer]:
    options = ServerOptions(access_log=None, change_poll_interval=0.1)
    with running_server(app.services, options, change_token=app.db.data_version) as running:
        yield running


@pytest.fixture
def client(server: ModulaServer) -> Iterator[Client]:
    c = Client("127.0.0.1", server.port)
    yield c
    c.close()


def test_site_root_and_clean_default(client: Client) -> None:
    for path in ("/api/v1/content/", "/api/v1/content"):
        reply = client.get(path)
        assert reply.status == 200
        page = reply.json()
        assert page["type"] == "page" and page["title"] == "Page number 0"
        assert page["views"] == 0 and page["published"] is True  # typed values
        assert page["tags"] == ["cms", "python", "tag0"]  # json parsed
        assert set(page["_meta"]) == {"authorId", "routeId", "dateCreated", "dateModified"}
        assert page["_meta"]["authorId"] is None  # a real null, not "null"


def test_tree_groups_children_by_plural_type(client: Client) -> None:
    tree = client.get("/api/v1/content/tree").json()
    assert [s["type"] for s in tree["sections"]] == ["section", "section"]
    assert tree["sections"][0]["cards"][0]["price"] == 1
    assert "children" not in tree


def test_every_format_keeps_the_original_structure(client: Client) -> None:
    raw = client.get("/api/v1/content/tree?format=raw").json()
    root = raw["root"]
    assert set(root) == {"datatype", "fields", "nodes"}
    assert set(root["datatype"]) == {"info", "content"}
    assert root["datatype"]["info"]["type"] == "_root"
    content = root["datatype"]["content"]
    assert content["parent_id"] is None and isinstance(content["revision"], int)
    field = root["fields"][0]
    assert set(field) == {"info", "content"} and isinstance(field["info"]["sort_order"], int)
    assert field["content"]["field_id"] == field["info"]["field_id"]
    leaf = root["nodes"][0]["nodes"][0]
    assert "nodes" not in leaf  # omitted for leaves, as in the original

    contentful = client.get("/api/v1/content/tree?format=contentful").json()
    sample = json.loads((SAMPLES / "home_page_contentful.json").read_text())
    assert set(contentful) == set(sample) == {"sys", "fields"}
    assert set(contentful["sys"]) == set(sample["sys"])
    assert contentful["sys"]["contentType"]["sys"]["linkType"] == "ContentType"
    assert contentful["fields"]["sections"][0]["sys"]["type"] == "Entry"

    sanity = client.get("/api/v1/content/tree?format=sanity").json()
    system_keys = {
        k for k in json.loads((SAMPLES / "home_page_sanity.json").read_text()) if k.startswith("_")
    }
    assert system_keys <= set(sanity)
    assert sanity["slug"] == {"_type": "slug", "current": "/page-0"}
    assert sanity["body"][0]["_type"] == "block"

    strapi = client.get("/api/v1/content/tree?format=strapi").json()
    assert set(strapi) == {"data", "meta"}
    assert set(strapi["data"]) == {"id", "attributes"}
    assert "createdAt" in strapi["data"]["attributes"]
    assert strapi["data"]["attributes"]["sections"]["data"][0]["id"]

    wordpress = client.get("/api/v1/content/?format=wordpress").json()
    sample = json.loads((SAMPLES / "home_page_wordpress.json").read_text())
    assert set(sample) <= set(wordpress)
    assert wordpress["title"] == {"rendered": "Page number 0"} and wordpress["slug"] == "/"
    assert wordpress["acf"]["metaTitle"] == "Page 0 - ModulaCMS demo site"


def test_etag_and_304(client: Client) -> None:
    first = client.get("/api/v1/content/tree")
    etag = first.header("etag")
    assert etag and etag.startswith('"')
    assert first.header("cache-control") == ServerOptions().cache_control
    again = client.get("/api/v1/content/tree", headers={"If-None-Match": etag})
    assert again.status == 304 and again.body == b"" and again.header("etag") == etag
    other = client.get("/api/v1/content/tree?format=raw", headers={"If-None-Match": etag})
    assert other.status == 200 and other.header("etag") != etag


def test_unpublished_and_unknown_routes_are_404(app: App, client: Client) -> None:
    from modulacms.core.models import Actor

    app.services.routes.create("/draft-only", Actor.system())
    assert client.get("/api/v1/content/draft-only").status == 404
    assert client.get("/api/v1/content/missing/page").status == 404


def test_publish_through_the_api_is_served_at_once(
    app: App, client: Client, tokens: dict[str, str]
) -> None:
    before = client.get("/api/v1/content/")
    route_id = before.json()["_meta"]["routeId"]
    node = app.services.content.tree("/").root.node
    editor = Client("127.0.0.1", client.port)
    editor.token = tokens["editor"]
    reply = editor.request(
        "PATCH",
        f"/api/v1/admin/content/{node.content_data_id}",
        json_body={"values": {"title": "Changed"}, "revision": node.revision},
    )
    assert reply.status == 200
    assert client.get("/api/v1/content/").json()["title"] == "Page number 0"  # draft only
    assert editor.post(f"/api/v1/admin/routes/{route_id}/publish", {}).status == 201
    after = client.get("/api/v1/content/", headers={"If-None-Match": before.header("etag")})
    assert after.status == 200 and after.json()["title"] == "Changed"
    assert editor.post(f"/api/v1/admin/routes/{route_id}/unpublish").status == 200
    assert client.get("/api/v1/content/").status == 404
    editor.close()


PUBLISH_ELSEWHERE = """
import sys
from modulacms.app import build_app
from modulacms.core.models import Actor
with build_app(sys.argv[1]) as app:
    root = app.services.content.tree("/tree").root.node
    system = Actor.system()
    values = {"title": "From the CLI"}
    app.services.content.update(root.content_data_id, values, root.revision, system)
    app.services.publishing.publish("/tree", system)
"""


def test_publish_from_another_process_is_served_within_a_second(app: App, client: Client) -> None:
    first = client.get("/api/v1/content/tree")
    assert first.json()["title"] == "Page number 0"
    subprocess.run([sys.executable, "-c", PUBLISH_ELSEWHERE, app.db.path], check=True)
    published = time.monotonic()
    while True:
        reply = client.get("/api/v1/content/tree", headers={"If-None-Match": first.header("etag")})
        if reply.status == 200:
            break
        assert time.monotonic() - published < 1.0, "stale page served for more than a second"
        time.sleep(0.02)
    assert reply.json()["title"] == "From the CLI"


def test_preview_needs_credentials_and_renders_the_draft(
    app: App, client: Client, tokens: dict[str, str]
) -> None:
    assert client.get("/api/v1/content/tree?preview=true").status == 401
    bad = client.get("/api/v1/content/tree?preview=true", headers={"Authorization": "Bearer nope"})
    assert bad.status == 401
    from modulacms.core.models import Actor

    root = app.services.content.tree("/tree").root.node
    app.services.content.update(
        root.content_data_id, {"title": "Draft title"}, root.revision, Actor.system()
    )
    viewer = {"Authorization": f"Bearer {tokens['viewer']}"}
    preview = client.get("/api/v1/content/tree?preview=true&format=contentful", headers=viewer)
    assert preview.status == 200 and preview.json()["fields"]["title"] == "Draft title"
    assert preview.header("cache-control") == "private, no-store"
    assert client.get("/api/v1/content/tree").json()["title"] == "Page number 0"


def test_scheduled_publishing(app: App) -> None:
    from modulacms.core.clock import ago
    from modulacms.core.models import Actor

    app.services.routes.create("/later", Actor.system())
    app.services.content.create("/later", "page", {"title": "Later"}, Actor.system())
    options = ServerOptions(access_log=None, scheduler_interval=0.1)
    with running_server(app.services, options) as server:
        c = Client("127.0.0.1", server.port)
        assert c.get("/api/v1/content/later").status == 404
        app.services.publishing.schedule("/later", ago(-0.5), Actor.system())
        deadline = time.monotonic() + 5
        while c.get("/api/v1/content/later").status != 200:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert c.get("/api/v1/content/later").json()["title"] == "Later"
        c.close()
