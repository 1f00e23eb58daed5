"""Published snapshots (``content_versions``) and the published index for queries."""

from __future__ import annotations

from dataclasses import dataclass

from modulacms.core.models import ContentVersion
from modulacms.db.connection import Database, Row

_VERSION = "version_id, route_id, version, kind, node_count, note, published_by, date_created"


def _version(row: Row) -> ContentVersion:
    return ContentVersion(*row)


@dataclass(frozen=True, slots=True)
class PublishedValue:
    """One value of the published index."""

    content_data_id: str
    field_id: str
    locale: str
    value_text: str | None
    value_num: float | None
    datatype_id: str


class VersionRepository:
    """SQL for ``content_versions``, ``published_nodes`` and ``published_fields``."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def versions(self, route_id: str) -> list[ContentVersion]:
        rows = self.db.execute(
            f"SELECT {_VERSION} FROM content_versions WHERE route_id = ? ORDER BY version DESC",
            (route_id,),
        )
        return [_version(r) for r in rows]

    def version(self, route_id: str, number: int) -> ContentVersion | None:
        row = self.db.one(
            f"SELECT {_VERSION} FROM content_versions WHERE route_id = ? AND version = ?",
            (route_id, number),
        )
        return None if row is None else _version(row)

    def version_by_id(self, version_id: str) -> ContentVersion | None:
        row = self.db.one(
            f"SELECT {_VERSION} FROM content_versions WHERE version_id = ?", (version_id,)
        )
        return None if row is None else _version(row)

    def snapshot(self, version_id: str) -> str | None:
        """The snapshot JSON text of a version."""
        value = self.db.scalar(
            "SELECT snapshot FROM content_versions WHERE version_id = ?", (version_id,)
        )
        return None if value is None else str(value)

    def next_number(self, route_id: str) -> int:
        value = self.db.scalar(
            "SELECT coalesce(max(version), 0) + 1 FROM content_versions WHERE route_id = ?",
            (route_id,),
        )
        return int(value)

    def insert(self, version: ContentVersion, snapshot: str) -> None:
        self.db.connection().execute(
            "INSERT INTO content_versions (version_id, route_id, version, kind, node_count, note, "
            "published_by, date_created, snapshot) VALUES (?,?,?,?,?,?,?,?,?)",
            (
                version.version_id,
                version.route_id,
                version.version,
                version.kind,
                version.node_count,
                version.note,
                version.published_by,
                version.date_created,
                snapshot,
            ),
        )

    def prune(self, route_id: str, keep: int, protect: str | None) -> int:
        """Delete all but the newest ``keep`` versions of a route (never ``protect``)."""
        conn = self.db.connection()
        conn.execute(
            "DELETE FROM content_versions WHERE route_id = ? AND version_id != coalesce(?, '') "
            "AND version_id NOT IN (SELECT version_id FROM content_versions WHERE route_id = ? "
            "ORDER BY version DESC LIMIT ?)",
            (route_id, protect, route_id, keep),
        )
        return conn.changes()

    # published index --------------------------------------------------------------------

    def clear_published(self, route_id: str) -> None:
        self.db.connection().execute("DELETE FROM published_nodes WHERE route_id = ?", (route_id,))

    def index_published(
        self,
        route_id: str,
        nodes: list[tuple[str, str, str, str, str]],
        values: list[PublishedValue],
    ) -> None:
        """Replace the route's published index.

        ``nodes`` rows are (content_data_id, datatype_id, published_at, date_created,
        date_modified).
        """
        conn = self.db.connection()
        self.clear_published(route_id)
        conn.executemany(
            "INSERT INTO published_nodes (content_data_id, route_id, datatype_id, published_at, "
            "date_created, date_modified) VALUES (?,?,?,?,?,?)",
            [(n[0], route_id, n[1], n[2], n[3], n[4]) for n in nodes],
        )
        conn.executemany(
            "INSERT INTO published_fields (content_data_id, field_id, locale, value_text, "
            "value_num, datatype_id) VALUES (?,?,?,?,?,?)",
            [
                (v.content_data_id, v.field_id, v.locale, v.value_text, v.value_num, v.datatype_id)
                for v in values
            ],
        )
