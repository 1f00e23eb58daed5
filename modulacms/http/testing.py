"""Running the real server on 127.0.0.1 and talking to it, for tests and benchmarks.

``running_server`` binds port 0, serves from a background thread, waits until the
server answers ``/api/v1/health`` and stops it gracefully afterwards. ``Client`` is a
small keep-alive JSON client over ``http.client``.
"""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from modulacms.http.options import ServerOptions
from modulacms.http.runner import build_server
from modulacms.http.server import ModulaServer


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


class Client:
    """One keep-alive connection; reconnects when the server closed it."""

    def __init__(self, host: str, port: int, *, timeout: float = 10.0) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.token: str | None = None
        self._conn: http.client.HTTPConnection | None = None

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        sent = dict(headers or {})
        if json_body is not None:
            body = json.dumps(json_body).encode()
            sent.setdefault("Content-Type", "application/json")
        if self.token and "Authorization" not in sent:
            sent["Authorization"] = f"Bearer {self.token}"
        for attempt in (1, 2):
            conn = self._connection()
            try:
                conn.request(method, path, body=body, headers=sent)
                response = conn.getresponse()
                data = response.read()
            except (ConnectionError, http.client.RemoteDisconnected):
                self.close()
                if attempt == 2:
                    raise
                continue
            reply = Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, data)
            if response.will_close:
                self.close()
            return reply
        raise AssertionError("unreachable")

    def get(self, path: str, **kw: Any) -> Reply:
        return self.request("GET", path, **kw)

    def post(self, path: str, json_body: Any = None, **kw: Any) -> Reply:
        return self.request("POST", path, json_body=json_body, **kw)

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            self._conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def wait_until_up(host: str, port: int, timeout: float = 10.0) -> None:
    """Poll the health endpoint until it answers 200."""
    deadline = time.monotonic() + timeout
    while True:
        client = Client(host, port, timeout=1.0)
        try:
            if client.get("/api/v1/health").status == 200:
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)
        finally:
            client.close()


@contextmanager
def running_server(
    services: Any,
    options: ServerOptions | None = None,
    *,
    change_token: Callable[[], object] | None = None,
) -> Iterator[ModulaServer]:
    """A real server for ``services`` on 127.0.0.1, port 0, stopped on exit."""
    base = options or ServerOptions(access_log=None)
    server = build_server(
        services, replace(base, host="127.0.0.1", port=0), change_token=change_token
    )
    server.start()
    try:
        wait_until_up("127.0.0.1", server.port)
        yield server
    finally:
        server.stop(grace=5.0)


PAGE_FIELDS: tuple[tuple[str, str], ...] = (
    ("title", "text"),
    ("meta_title", "text"),
    ("meta_description", "textarea"),
    ("slug", "text"),
    ("published", "boolean"),
    ("views", "number"),
    ("summary", "textarea"),
    ("body", "richtext"),
    ("hero_url", "url"),
    ("tags", "json"),
)


def page_values(n: int) -> dict[str, Any]:
    """Values of the 10 page fields (about 2 KB rendered as ``clean``)."""
    return {
        "title": f"Page number {n}",
        "meta_title": f"Page {n} - ModulaCMS demo site",
        "meta_description": "A headless CMS that ships as one executable. " * 3,
        "slug": f"/page-{n}",
        "published": n % 2 == 0,
        "views": n * 7,
        "summary": "Editors build pages as trees of typed blocks in the terminal. " * 3,
        "body": "<h2>Why</h2><p>" + "Fast, cacheable public delivery from SQLite. " * 26 + "</p>",
        "hero_url": f"https://example.com/images/{n}.jpg",
        "tags": ["cms", "python", f"tag{n % 10}"],
    }


def build_sample_site(services: Any, *, tree_nodes: int = 50) -> dict[str, str]:
    """A small real site: ``page`` (10 fields), ``section`` and ``card`` datatypes, the
    published home page ``/`` (one page node) and ``/tree`` (``tree_nodes`` nodes).

    Returns ``{"page": home root id, "tree": tree root id}``.
    """
    from modulacms.core.ids import new_id
    from modulacms.core.models import Actor
    from modulacms.services.content import NewContent

    system = Actor.system()
    schema = services.schema
    schema.create_datatype("page", system, label="Page")
    schema.create_datatype("section", system, label="Section")
    schema.create_datatype("card", system, label="Card")
    for name, field_type in PAGE_FIELDS:
        schema.create_field(name, field_type, system, label=name.replace("_", " ").title())
        schema.attach("page", name, system)
    schema.create_field("heading", "text", system, label="Heading")
    schema.create_field("price", "number", system, label="Price")
    for datatype in ("section", "card"):
        schema.attach(datatype, "heading", system)
        schema.attach(datatype, "summary", system)
    schema.attach("card", "price", system)
    ids: dict[str, str] = {}
    for slug, size in (("/", 1), ("/tree", tree_nodes)):
        if slug != "/":
            services.routes.create(slug, system, title=slug.strip("/").title())
        else:
            try:
                services.routes.get("/")
            except Exception:
                services.routes.create("/", system, title="Home")
        root = services.content.create(slug, "page", page_values(0), system)
        items: list[Any] = []
        section_id: str | None = None
        for i in range(size - 1):
            if i % 7 == 0:
                section_id = new_id()
                items.append(
                    NewContent(
                        "section",
                        {"heading": f"Section {i}", "summary": "Blocks nest beneath pages."},
                        parent_id=root.content_data_id,
                        content_id=section_id,
                    )
                )
            else:
                items.append(
                    NewContent(
                        "card",
                        {"heading": f"Card {i}", "summary": "Sibling order is O(1).", "price": i},
                        parent_id=section_id,
                    )
                )
        if items:
            services.content.create_many(slug, items, system)
        services.publishing.publish(slug, system)
        ids["page" if slug == "/" else "tree"] = root.content_data_id
    return ids


def make_people(services: Any, password: str = "correct-horse-1") -> dict[str, str]:
    """An admin, an editor and a viewer (``<role>@example.com``) with an API token each.

    Returns ``{role: token secret}``.
    """
    from modulacms.core.models import Actor

    system = Actor.system()
    tokens = {}
    for role in ("admin", "editor", "viewer"):
        user = services.users.create(f"{role}@example.com", password, system, role=role)
        created = services.auth.create_token(f"{role} token", system, user_id=user.user_id)
        tokens[role] = created.secret
    return tokens
