"""The OpenAPI document: valid OpenAPI 3.1, complete, and true of the live server.

The schemathesis run is bounded (a few examples per operation, derandomised) so that it
fits in the default suite; it fails on any 500 and on any response whose status, content
type or body the document does not describe.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from openapi_spec_validator import validate
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from modulacms.app import App, build_app
from modulacms.http.options import ServerOptions
from modulacms.http.server import ModulaServer
from modulacms.http.testing import Client, build_sample_site, make_people, running_server

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    with build_app(tmp_path / "site.db") as opened:
        build_sample_site(opened.services, tree_nodes=8)
        yield opened


@pytest.fixture
def server(app: App) -> Iterator[ModulaServer]:
    options = ServerOptions(access_log=None, login_attempts_per_minute=10_000)
    with running_server(app.services, options) as running:
        yield running


@pytest.fixture
def document(server: ModulaServer) -> dict[str, object]:
    client = Client("127.0.0.1", server.port)
    reply = client.get("/api/v1/openapi.json")
    client.close()
    assert reply.status == 200
    return reply.json()  # type: ignore[no-any-return]


def test_document_is_valid_openapi_31(document: dict[str, object]) -> None:
    assert document["openapi"] == "3.1.0"
    validate(document)


def test_document_describes_every_endpoint(server: ModulaServer, document: dict) -> None:
    documented = {
        (method.upper(), path) for path, item in document["paths"].items() for method in item
    }
    table = {
        (e.method, e.pattern.replace(":path}", "}")) for e in server.dispatcher.router.endpoints
    }
    assert documented == table
    ops = [op for item in document["paths"].values() for op in item.values()]
    assert all(op["responses"] and op["summary"] for op in ops)
    assert len({op["operationId"] for op in ops}) == len(ops)


def test_schemathesis_finds_no_500_and_no_undocumented_response(
    app: App, server: ModulaServer, document: dict
) -> None:
    tokens = make_people(app.services)
    headers = {"Authorization": f"Bearer {tokens['admin']}"}
    base_url = f"http://127.0.0.1:{server.port}"
    schema = schemathesis.openapi.from_dict(document)
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(
            max_examples=6,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def exercise(case: schemathesis.Case) -> None:
            case.call_and_validate(base_url=base_url, headers=headers, checks=CHECKS)

        try:
            exercise()
        except Exception as exc:  # collect every operation's failure, then report them all
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    assert not failures, "\n\n".join(failures)
