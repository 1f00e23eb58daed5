"""Auth, permissions and the admin API over HTTP, against a real project."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from modulacms.app import App, build_app
from modulacms.http.options import ServerOptions
from modulacms.http.server import ModulaServer
from modulacms.http.testing import Client, build_sample_site, make_people, running_server

A = "/api/v1/admin"


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    with build_app(tmp_path / "site.db") as opened:
        build_sample_site(opened.services, tree_nodes=8)
        yield opened


@pytest.fixture
def tokens(app: App) -> dict[str, str]:
    return make_people(app.services)


@pytest.fixture
def server(app: App) -> Iterator[ModulaServer]:
    with running_server(app.services, ServerOptions(access_log=None)) as running:
        yield running


def as_role(server: ModulaServer, tokens: dict[str, str], role: str | None) -> Client:
    client = Client("127.0.0.1", server.port)
    client.token = tokens[role] if role else None
    return client


@pytest.fixture
def admin(server: ModulaServer, tokens: dict[str, str]) -> Iterator[Client]:
    client = as_role(server, tokens, "admin")
    yield client
    client.close()


def route_id(client: Client, slug: str) -> str:
    routes = client.get(f"{A}/routes").json()["data"]
    return next(r["route_id"] for r in routes if r["slug"] == slug)


# auth -------------------------------------------------------------------------------------


def test_login_cookie_me_and_logout(server: ModulaServer, tokens: dict[str, str]) -> None:
    client = Client("127.0.0.1", server.port)
    reply = client.post(
        "/api/v1/auth/login", {"email": "editor@example.com", "password": "correct-horse-1"}
    )
    assert reply.status == 200
    cookie = reply.header("set-cookie") or ""
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    session = cookie.split(";")[0]
    me = client.get("/api/v1/auth/me", headers={"Cookie": session})
    assert me.status == 200 and me.json()["user"]["email"] == "editor@example.com"
    assert "content:publish" in me.json()["permissions"]
    bearer = {"Authorization": f"Bearer {reply.json()['token']}"}
    assert client.get("/api/v1/auth/me", headers=bearer).status == 200
    out = client.post("/api/v1/auth/logout", headers={"Cookie": session})
    assert out.status == 204 and "Max-Age=0" in (out.header("set-cookie") or "")
    assert client.get("/api/v1/auth/me", headers={"Cookie": session}).status == 401
    client.close()


def test_bad_credentials(server: ModulaServer, tokens: dict[str, str]) -> None:
    client = Client("127.0.0.1", server.port)
    wrong = client.post(
        "/api/v1/auth/login", {"email": "editor@example.com", "password": "wrong-password"}
    )
    assert wrong.status == 401 and wrong.json()["error"]["code"] == "unauthorized"
    missing = client.post("/api/v1/auth/login", {"email": "editor@example.com"})
    assert missing.status == 422
    assert missing.json()["error"]["details"]["fields"] == [
        {"field": "password", "message": "is required"}
    ]
    assert client.get("/api/v1/auth/me").status == 401
    basic = client.get("/api/v1/auth/me", headers={"Authorization": "Basic abc"})
    assert basic.status == 401 and basic.header("www-authenticate")
    client.close()


def test_login_is_rate_limited_per_ip(server: ModulaServer, tokens: dict[str, str]) -> None:
    client = Client("127.0.0.1", server.port)
    body = {"email": "viewer@example.com", "password": "wrong-password"}
    statuses = [client.post("/api/v1/auth/login", body).status for _ in range(11)]
    assert statuses[:10] == [401] * 10 and statuses[10] == 429
    limited = client.post("/api/v1/auth/login", body)
    assert int(limited.header("retry-after") or "0") >= 1
    assert limited.json()["error"]["code"] == "rate_limited"
    client.close()


# permission matrix --------------------------------------------------------------------------

MATRIX = [
    # method, path, body, {role: expected status}
    ("GET", f"{A}/routes", None, {"viewer": 200, "editor": 200, "admin": 200, None: 401}),
    ("POST", f"{A}/routes", {"slug": "/m-{role}"}, {"viewer": 403, "editor": 403, "admin": 201}),
    ("GET", f"{A}/datatypes", None, {"viewer": 200, "editor": 200, "admin": 200}),
    ("POST", f"{A}/datatypes", {"name": "dt_{role}"}, {"viewer": 403, "editor": 403, "admin": 201}),
    ("POST", f"{A}/fields", {"name": "f_{role}", "type": "text"}, {"editor": 403, "admin": 201}),
    ("GET", f"{A}/users", None, {"viewer": 403, "editor": 403, "admin": 200}),
    ("GET", f"{A}/roles", None, {"viewer": 403, "editor": 403, "admin": 200}),
    ("GET", f"{A}/audit", None, {"viewer": 403, "editor": 403, "admin": 200, None: 401}),
    ("GET", f"{A}/metrics", None, {"viewer": 403, "editor": 403, "admin": 200}),
    ("GET", f"{A}/content/trash", None, {"viewer": 200, "editor": 200, "admin": 200}),
    ("GET", f"{A}/tokens", None, {"viewer": 403, "editor": 200, "admin": 200}),
    (
        "POST",
        f"{A}/content",
        {"route": "/tree", "datatype": "card", "values": {"heading": "x"}},
        {"viewer": 403, "editor": 201, "admin": 201, None: 401},
    ),
    ("POST", f"{A}/routes/{{tree}}/publish", {}, {"viewer": 403, "editor": 201, "admin": 201}),
    ("GET", "/api/v1/content/tree?preview=true", None, {"viewer": 200, None: 401}),
]


@pytest.mark.parametrize(("method", "path", "body", "expected"), MATRIX)
def test_permission_matrix(
    server: ModulaServer,
    tokens: dict[str, str],
    method: str,
    path: str,
    body: dict[str, object] | None,
    expected: dict[str | None, int],
) -> None:
    lookup = as_role(server, tokens, "admin")
    tree = route_id(lookup, "/tree")
    lookup.close()
    for role, status in expected.items():
        client = as_role(server, tokens, role)
        sent = (
            None
            if body is None
            else {k: (v.format(role=role) if isinstance(v, str) else v) for k, v in body.items()}
        )
        reply = client.request(method, path.format(tree=tree), json_body=sent)
        assert reply.status == status, (role, reply.body)
        if status in (401, 403):
            assert reply.json()["error"]["code"] in ("unauthorized", "forbidden")
        client.close()


# content editing ---------------------------------------------------------------------------


def test_content_life_cycle(admin: Client) -> None:
    tree = route_id(admin, "/tree")
    draft = admin.get(f"{A}/routes/{tree}/tree?format=clean").json()
    root, section = draft["id"], draft["sections"][0]["id"]
    created = admin.post(
        f"{A}/content",
        {
            "route": "/tree",
            "datatype": "card",
            "values": {"heading": "New", "price": 5},
            "parent_id": section,
        },
    )
    assert created.status == 201
    new_id = created.json()["content_data_id"]
    assert set(created.json()["content_field_ids"]) == {"heading", "price"}
    item = admin.get(f"{A}/content/{new_id}").json()
    assert item["values"] == {"heading": "New", "summary": None, "price": "5"}
    revision = item["node"]["revision"]
    update = admin.request(
        "PATCH", f"{A}/content/{new_id}", json_body={"values": {"price": 7}, "revision": revision}
    )
    assert update.status == 200 and update.json()["revision"] == revision + 1
    stale = admin.request(
        "PATCH", f"{A}/content/{new_id}", json_body={"values": {"price": 8}, "revision": revision}
    )
    assert stale.status == 409 and stale.json()["error"]["code"] == "conflict"
    invalid = admin.request(
        "PATCH",
        f"{A}/content/{new_id}",
        json_body={"values": {"price": "lots"}, "revision": revision + 1},
    )
    assert invalid.status == 422
    assert invalid.json()["error"]["details"]["fields"][0]["field"] == "price"
    moved = admin.post(f"{A}/content/{new_id}/move", {"parent_id": root})
    assert moved.status == 200 and moved.json()["parent_id"] == root
    children = [
        c["content_data_id"] for c in admin.get(f"{A}/content/{root}/children").json()["data"]
    ]
    assert children[-1] == new_id
    order = [new_id, *children[:-1]]
    assert (
        admin.request("PUT", f"{A}/content/{root}/children", json_body={"order": order}).status
        == 204
    )
    again = [c["content_data_id"] for c in admin.get(f"{A}/content/{root}/children").json()["data"]]
    assert again == order
    assert admin.request("DELETE", f"{A}/content/{new_id}").json() == {"deleted": 1}
    assert admin.get(f"{A}/content/{new_id}").json()["node"]["trashed_at"]
    assert new_id in [t["content_data_id"] for t in admin.get(f"{A}/content/trash").json()["data"]]
    assert admin.post(f"{A}/content/{new_id}/restore").status == 200
    assert admin.get(f"{A}/content/{new_id}").json()["node"]["trashed_at"] is None


def test_publishing_versions_and_rollback(admin: Client) -> None:
    tree = route_id(admin, "/tree")
    v2 = admin.post(f"{A}/routes/{tree}/publish", {"note": "second"})
    assert v2.status == 201 and v2.json()["version"] == 2
    versions = admin.get(f"{A}/routes/{tree}/versions").json()
    assert versions["total"] == 2 and {v["version"] for v in versions["data"]} == {1, 2}
    rollback = admin.post(f"{A}/routes/{tree}/versions/1/rollback")
    assert rollback.status == 201
    restored = admin.post(f"{A}/routes/{tree}/versions/1/restore")
    assert restored.status == 200 and "root" in restored.json()
    assert admin.post(f"{A}/routes/{tree}/versions/99/restore").status == 404
    assert admin.post(f"{A}/routes/{tree}/versions/x/restore").status == 400
    past = admin.post(f"{A}/routes/{tree}/schedule", {"publish_at": "2001-01-01T00:00:00Z"})
    assert past.status == 422
    future = admin.post(f"{A}/routes/{tree}/schedule", {"publish_at": "2999-01-01T00:00:00Z"})
    assert future.status == 200 and future.json()["status"] == "scheduled"
    assert admin.post(f"{A}/routes/{tree}/unpublish").status == 200
    assert admin.post(f"{A}/routes/{tree}/unpublish").status == 409


def test_schema_endpoints(admin: Client) -> None:
    assert admin.post(f"{A}/datatypes", {"name": "post", "label": "Post"}).status == 201
    assert admin.post(f"{A}/datatypes", {"name": "post"}).status == 409
    assert admin.post(f"{A}/datatypes", {"name": "Bad Name"}).status == 422
    assert admin.post(f"{A}/fields", {"name": "rating", "type": "number"}).status == 201
    assert admin.post(f"{A}/fields", {"name": "rating2", "type": "nope"}).status == 422
    attached = admin.post(f"{A}/datatypes/post/fields", {"field": "rating", "required": True})
    assert attached.status == 201 and attached.json()["required"] is True
    admin.post(f"{A}/datatypes/post/fields", {"field": "title"})
    reordered = admin.request(
        "PUT", f"{A}/datatypes/post/fields", json_body={"fields": ["title", "rating"]}
    )
    assert [f["field"]["name"] for f in reordered.json()] == ["title", "rating"]
    detail = admin.get(f"{A}/datatypes/post").json()
    assert detail["datatype"]["label"] == "Post" and len(detail["fields"]) == 2
    assert (
        admin.request("PATCH", f"{A}/fields/rating", json_body={"label": "Stars"}).json()["label"]
        == "Stars"
    )
    assert admin.request("DELETE", f"{A}/datatypes/post/fields/rating").status == 204
    assert admin.request("DELETE", f"{A}/datatypes/post").status == 204
    assert admin.get(f"{A}/datatypes/post").status == 404


def test_people_endpoints(admin: Client) -> None:
    made = admin.post(
        f"{A}/users", {"email": "new@example.com", "password": "long-enough-1", "role": "editor"}
    )
    assert made.status == 201 and "hash" not in made.json()
    user_id = made.json()["user_id"]
    dup = admin.post(f"{A}/users", {"email": "NEW@example.com", "password": "long-enough-1"})
    assert dup.status == 409
    assert (
        admin.request("PATCH", f"{A}/users/{user_id}", json_body={"name": "N"}).json()["name"]
        == "N"
    )
    token = admin.post(f"{A}/tokens", {"name": "ci", "user_id": user_id})
    assert token.status == 201 and token.json()["secret"].startswith("mcms_")
    token_id = token.json()["token"]["token_id"]
    assert admin.request("DELETE", f"{A}/tokens/{token_id}").json()["revoked_at"]
    role = admin.post(f"{A}/roles", {"name": "auditor", "permissions": ["audit:read"]})
    assert role.status == 201 and role.json()["permissions"] == ["audit:read"]
    assert admin.post(f"{A}/roles", {"name": "x", "permissions": ["no:such"]}).status == 422
    assert admin.request("DELETE", f"{A}/users/{user_id}").status == 204
    assert admin.request("DELETE", f"{A}/roles/auditor").status == 204
    audit = admin.get(f"{A}/audit?table=users&limit=5").json()
    assert audit["limit"] == 5 and audit["total"] >= 2
    metrics = admin.get(f"{A}/metrics")
    assert metrics.header(
        "content-type",
    ).startswith("text/plain")
    assert b"modulacms_http_requests_total" in metrics.body


def test_query_endpoint(server: ModulaServer) -> None:
    client = Client("127.0.0.1", server.port)
    reply = client.get("/api/v1/query/card?price[gte]=3&price[lt]=6&sort=-price")
    body = reply.json()
    assert reply.status == 200 and body["total"] == 3 and body["limit"] == 20
    assert [item["fields"]["price"] for item in body["data"]] == [5, 4, 3]
    assert client.get("/api/v1/query/card?price[in]=1,2&limit=1").json()["total"] == 2
    assert client.get("/api/v1/query/card?limit=1000").json()["limit"] == 100
    assert client.get("/api/v1/query/card?price[between]=1").status == 422
    assert client.get("/api/v1/query/card?nosuch=1").status == 422
    assert client.get("/api/v1/query/card?PRICE[eq]=1").status == 400
    assert client.get("/api/v1/query/card?limit=abc").status == 400
    assert client.get("/api/v1/query/nothing").status == 404
    client.close()


# bad input never 500 -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "headers", "status"),
    [
        (b'{"slug": ', {"Content-Type": "application/json"}, 400),
        (b'{"slug": "\xff"}', {"Content-Type": "application/json"}, 400),
        (b"[" * 5000 + b"]" * 5000, {"Content-Type": "application/json"}, 400),
        (b'{"slug": "/x"}', {"Content-Type": "text/plain"}, 415),
        (b'{"slug": 5}', {"Content-Type": "application/json"}, 422),
        (b'["not", "an", "object"]', {"Content-Type": "application/json"}, 400),
        (b'{"slug": "/x", "title": {"nested": [1, 2]}}', {"Content-Type": "application/json"}, 422),
    ],
)
def test_bad_bodies(admin: Client, body: bytes, headers: dict[str, str], status: int) -> None:
    reply = admin.request("POST", f"{A}/routes", body=body, headers=headers)
    assert reply.status == status
    assert "error" in reply.json() and "Traceback" not in reply.body.decode("utf-8", "replace")


def test_concurrent_editors_lose_no_update(
    app: App, server: ModulaServer, tokens: dict[str, str]
) -> None:
    node = app.services.content.tree("/").root.node
    path = f"{A}/content/{node.content_data_id}"
    results: list[int] = []
    lock = threading.Lock()

    def editor(n: int) -> None:
        client = as_role(server, tokens, "editor")
        for _ in range(5):
            current = client.get(path).json()
            views = int(current["values"]["views"])
            reply = client.request(
                "PATCH",
                path,
                json_body={"values": {"views": views + 1}, "revision": current["node"]["revision"]},
            )
            with lock:
                results.append(reply.status)
        client.close()

    threads = [threading.Thread(target=editor, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert set(results) <= {200, 409} and len(results) == 100
    final = app.services.content.item(node.content_data_id)
    successes = results.count(200)
    # every accepted update incremented exactly once: nothing was overwritten silently
    assert int(final.values["views"] or 0) == successes
    assert final.node.revision == node.revision + successes


def test_media_upload_and_public_delivery(server: ModulaServer, tokens: dict[str, str]) -> None:
    editor = as_role(server, tokens, "editor")
    data = b"plain text media\n" * 10
    up = editor.request(
        "POST",
        f"{A}/media?filename=notes.txt&alt=Notes",
        body=data,
        headers={"Content-Type": "text/plain"},
    )
    assert up.status == 201 and up.json()["size"] == len(data)
    media_id = up.json()["media_id"]
    assert editor.request("POST", f"{A}/media?filename=x.txt", body=b"").status == 422
    assert editor.get(f"{A}/media").json()["total"] == 1
    assert (
        editor.request("PATCH", f"{A}/media/{media_id}", json_body={"alt": "N"}).json()["alt"]
        == "N"
    )
    public = Client("127.0.0.1", server.port)
    got = public.get(f"/api/v1/media/{media_id}")
    assert got.status == 200 and got.body == data and got.header("content-type") == "text/plain"
    cached = public.get(f"/api/v1/media/{media_id}", headers={"If-None-Match": got.header("etag")})
    assert cached.status == 304
    viewer = as_role(server, tokens, "viewer")
    assert viewer.request("DELETE", f"{A}/media/{media_id}").status == 403
    assert editor.request("DELETE", f"{A}/media/{media_id}").status == 204
    assert public.get(f"/api/v1/media/{media_id}").status == 404
    for client in (editor, public, viewer):
        client.close()


def test_heal_checks_and_repairs(server: ModulaServer, tokens: dict[str, str]) -> None:
    viewer, editor = as_role(server, tokens, "viewer"), as_role(server, tokens, "editor")
    tree = route_id(editor, "/tree")
    report = viewer.post(f"{A}/routes/{tree}/heal")
    assert report.status == 200 and report.json()["problems"] == []
    assert report.json()["nodes_checked"] == 8
    assert viewer.post(f"{A}/routes/{tree}/heal?repair=true").status == 403
    assert editor.post(f"{A}/routes/{tree}/heal?repair=true").status == 200
    viewer.close()
    editor.close()
