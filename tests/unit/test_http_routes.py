"""The route table: literals over parameters, path parameters, 404 and 405."""

from __future__ import annotations

import pytest

from modulacms.http.responses import HttpError, Response
from modulacms.http.routes import Router


def _h(name: str):  # type: ignore[no-untyped-def]
    def handler(request, ctx) -> Response:  # type: ignore[no-untyped-def]
        return Response(200, name.encode())

    return handler


@pytest.fixture
def router() -> Router:
    table = Router()
    table.add("GET", "/api/v1/health", _h("health"))
    table.add("GET", "/api/v1/content/{slug:path}", _h("deliver"))
    table.add("GET", "/api/v1/admin/content/{id}", _h("node"))
    table.add("PATCH", "/api/v1/admin/content/{id}", _h("update"))
    table.add("GET", "/api/v1/admin/content/trash", _h("trash"))
    table.add("POST", "/api/v1/admin/content/{id}/move", _h("move"))
    return table


def test_static_and_params(router: Router) -> None:
    endpoint, params = router.match("GET", "/api/v1/health/")
    assert endpoint.pattern == "/api/v1/health" and params == {}
    endpoint, params = router.match("GET", "/api/v1/admin/content/01ABC")
    assert endpoint.pattern == "/api/v1/admin/content/{id}" and params == {"id": "01ABC"}
    endpoint, params = router.match("GET", "/api/v1/admin/content/trash")
    assert endpoint.pattern == "/api/v1/admin/content/trash"
    endpoint, params = router.match("POST", "/api/v1/admin/content/X1/move")
    assert params == {"id": "X1"}


def test_path_parameter_takes_the_rest(router: Router) -> None:
    assert router.match("GET", "/api/v1/content/blog/hello")[1] == {"slug": "blog/hello"}
    assert router.match("GET", "/api/v1/content/")[1] == {"slug": ""}
    assert router.match("GET", "/api/v1/content")[1] == {"slug": ""}


def test_head_falls_back_to_get(router: Router) -> None:
    assert router.match("HEAD", "/api/v1/health")[0].method == "GET"


def test_404_and_405(router: Router) -> None:
    with pytest.raises(HttpError) as info:
        router.match("GET", "/api/v2/health")
    assert info.value.status == 404
    with pytest.raises(HttpError) as info:
        router.match("DELETE", "/api/v1/admin/content/X")
    assert info.value.status == 405
    assert dict(info.value.headers)["Allow"] == "GET, OPTIONS, PATCH"
    assert router.allowed("/api/v1/admin/content/X") == ["GET", "PATCH"]


def test_table_mistakes_are_refused() -> None:
    table = Router()
    table.add("GET", "/a/{id}", _h("a"))
    with pytest.raises(ValueError, match="duplicate"):
        table.add("GET", "/a/{id}", _h("b"))
    with pytest.raises(ValueError, match="named id"):
        table.add("GET", "/a/{other}/x", _h("c"))
    with pytest.raises(ValueError, match="last"):
        table.add("GET", "/b/{rest:path}/x", _h("d"))
