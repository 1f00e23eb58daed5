"""Apply the numbered SQL migrations and track the schema version in ``user_version``."""

from __future__ import annotations

import re
from dataclasses import dataclass

from modulacms.db.connection import Database
from modulacms.errors import StoreError
from modulacms.resources import package_path, read_text

_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    """One shipped migration file."""

    version: int
    name: str

    def sql(self) -> str:
        return read_text("modulacms.db.migrations", self.name)


def available() -> list[Migration]:
    """Every shipped migration, in order."""
    found = []
    for entry in package_path("modulacms.db.migrations").iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), entry.name))
    return sorted(found, key=lambda m: m.version)


def latest_version() -> int:
    """The schema version this build of ModulaCMS writes."""
    migrations = available()
    return migrations[-1].version if migrations else 0


def current_version(db: Database) -> int:
    """The schema version recorded in the database file."""
    return int(db.scalar("PRAGMA user_version") or 0)


def pending(db: Database) -> list[Migration]:
    """Migrations not yet applied to ``db``."""
    version = current_version(db)
    return [m for m in available() if m.version > version]


def migrate(db: Database) -> list[Migration]:
    """Apply every pending migration, each in its own transaction; return those applied.

    Raises ``StoreError`` when the file was written by a newer ModulaCMS.
    """
    version = current_version(db)
    newest = latest_version()
    if version > newest:
        raise StoreError(
            f"database {db.path} has schema version {version}, newer than this ModulaCMS "
            f"understands ({newest}); upgrade ModulaCMS to open it"
        )
    applied = []
    for migration in pending(db):
        with db.transaction() as conn:
            conn.execute(migration.sql())
            conn.execute(f"PRAGMA user_version = {migration.version:d}")
        applied.append(migration)
    return applied
