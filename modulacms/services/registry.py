"""``Services``: the one object front ends receive, holding every service."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from modulacms.core.events import HookDispatcher
from modulacms.db.connection import Database
from modulacms.db.repositories.audit import AuditRepository
from modulacms.services.audit import AuditService
from modulacms.services.auth import AuthService
from modulacms.services.content import ContentService
from modulacms.services.media import MediaService
from modulacms.services.plugin_core import PluginCoreService
from modulacms.services.publishing import DEFAULT_VERSIONS_KEPT, PublishingService
from modulacms.services.query import QueryService
from modulacms.services.routes import RouteService
from modulacms.services.schema import SchemaService
from modulacms.services.users import UserService


@dataclass(frozen=True, slots=True)
class Services:
    """Every service of one open project."""

    schema: SchemaService
    routes: RouteService
    content: ContentService
    publishing: PublishingService
    audit: AuditService
    query: QueryService
    users: UserService
    auth: AuthService
    media: MediaService
    plugin_core: PluginCoreService

    def change_token(self) -> int:
        """A number that changes whenever any connection, in any process, commits a write.

        Cheap (one pragma); call it from one thread, since each thread reads through its own
        connection and a connection does not see its own commits change the number.
        """
        return self.content.db.data_version()

    def set_hooks(self, dispatcher: HookDispatcher) -> None:
        """Install the plugin runtime's hook dispatcher (replaces the null one)."""
        self.content.hooks = dispatcher
        self.users.hooks = dispatcher


def _default_media_root(db: Database) -> Path:
    """``media/`` beside the database file (a temporary folder for in-memory databases)."""
    if db.memory:
        return Path(tempfile.mkdtemp(prefix="modulacms-media-"))
    return Path(db.path).resolve().parent / "media"


def build_services(
    db: Database,
    *,
    versions_kept: int = DEFAULT_VERSIONS_KEPT,
    session_ttl: int = 7 * 24 * 3600,
    media_root: Path | None = None,
) -> Services:
    """Wire the services of a migrated database."""
    audit = AuditRepository(db)
    schema = SchemaService(db, audit)
    routes = RouteService(db, audit)
    content = ContentService(db, audit, schema, routes)
    publishing = PublishingService(db, audit, content, versions_kept=versions_kept)
    media = MediaService(db, audit, media_root or _default_media_root(db))
    return Services(
        schema=schema,
        routes=routes,
        content=content,
        publishing=publishing,
        audit=AuditService(audit),
        query=QueryService(db, schema),
        users=UserService(db, audit),
        auth=AuthService(db, audit, session_ttl=session_ttl),
        media=media,
        plugin_core=PluginCoreService(content, media),
    )
