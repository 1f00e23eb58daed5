"""Shared fixtures: a migrated database on a real file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from modulacms.core.models import Actor
from modulacms.db.connection import Database
from modulacms.db.migrate import migrate
from modulacms.services.registry import Services, build_services


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    """A migrated database in a real SQLite file under tmp_path."""
    database = Database(tmp_path / "modulacms.db")
    migrate(database)
    yield database
    database.close()


@pytest.fixture
def services(db: Database) -> Services:
    """Every service wired to the migrated ``db``, with the default site in place."""
    wired = build_services(db)
    wired.routes.ensure_default_site()
    return wired


@pytest.fixture
def system() -> Actor:
    return Actor.system()


@pytest.fixture
def page_schema(services: Services, system: Actor) -> Services:
    """A ``page`` datatype with a required ``title`` and an optional ``views`` number."""
    services.schema.create_datatype("page", system, label="Page")
    services.schema.create_field("title", "text", system, label="Title")
    services.schema.create_field("views", "number", system, validation={"min": 0})
    services.schema.attach("page", "title", system, required=True)
    services.schema.attach("page", "views", system)
    return services
