"""Shared fixtures: a migrated database on a real file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from modulacms.db.connection import Database
from modulacms.db.migrate import migrate


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    """A migrated database in a real SQLite file under tmp_path."""
    database = Database(tmp_path / "modulacms.db")
    migrate(database)
    yield database
    database.close()
