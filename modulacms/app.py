"""The composition root: open a project's database and wire the services."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modulacms.db.connection import Database
from modulacms.db.migrate import migrate
from modulacms.services.publishing import DEFAULT_VERSIONS_KEPT
from modulacms.services.registry import Services, build_services
from modulacms.services.users import seed_roles


@dataclass
class App:
    """An open project: its database and its services. Close it when done."""

    db: Database
    services: Services
    plugins: Any = None  # a started PluginRuntime while serving with plugins enabled

    def close(self) -> None:
        if self.plugins is not None:
            self.plugins.close()
            self.plugins = None
        self.db.close()

    def __enter__(self) -> App:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def build_app(
    database: str | Path,
    *,
    versions_kept: int = DEFAULT_VERSIONS_KEPT,
    session_ttl: int = 7 * 24 * 3600,
    media_root: Path | None = None,
    migrate_schema: bool = True,
) -> App:
    """Open (and by default migrate) the database at ``database`` and wire the services.

    ``media_root`` defaults to ``media/`` beside the database file.
    """
    db = Database(database)
    try:
        if migrate_schema:
            migrate(db)
            seed_roles(db)
        services = build_services(
            db, versions_kept=versions_kept, session_ttl=session_ttl, media_root=media_root
        )
        services.routes.ensure_default_site()
    except BaseException:
        db.close()
        raise
    return App(db=db, services=services)
