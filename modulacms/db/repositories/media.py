"""Media files (``media``) and their sizes (``media_dimensions``)."""

from __future__ import annotations

from typing import Any

from modulacms.core.ids import new_id
from modulacms.core.models import Media, MediaDimension, from_values
from modulacms.db.connection import Database, Row

_MEDIA = "media_id, name, filename, mime_type, size, alt, author_id, date_created, date_modified"


class MediaRepository:
    """SQL for ``media`` and ``media_dimensions``."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def _with_dimensions(self, rows: list[Row]) -> list[Media]:
        if not rows:
            return []
        ids = [r[0] for r in rows]
        marks = ",".join("?" * len(ids))
        dims: dict[str, list[MediaDimension]] = {}
        for media_id, label, width, height in self.db.execute(
            "SELECT media_id, label, width, height FROM media_dimensions "
            f"WHERE media_id IN ({marks}) ORDER BY label",
            ids,
        ):
            dims.setdefault(media_id, []).append(MediaDimension(label, width, height))
        return [from_values(Media, (*r, tuple(dims.get(r[0], ())))) for r in rows]

    def get(self, media_id: str) -> Media | None:
        rows = self.db.execute(f"SELECT {_MEDIA} FROM media WHERE media_id = ?", (media_id,))
        found = self._with_dimensions(rows)
        return found[0] if found else None

    def list(self, search: str | None, limit: int, offset: int) -> tuple[list[Media], int]:
        where, params = "", []
        if search:
            where = "WHERE name LIKE ? ESCAPE '\\' OR filename LIKE ? ESCAPE '\\'"
            pattern = (
                "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            )
            params = [pattern, pattern]
        total = int(self.db.scalar(f"SELECT count(*) FROM media {where}", params))
        rows = self.db.execute(
            f"SELECT {_MEDIA} FROM media {where} ORDER BY date_created DESC, media_id DESC "
            "LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )
        return self._with_dimensions(rows), total

    def insert(self, media: Media) -> None:
        conn = self.db.connection()
        conn.execute(
            f"INSERT INTO media ({_MEDIA}) VALUES (?,?,?,?,?,?,?,?,?)",
            (
                media.media_id,
                media.name,
                media.filename,
                media.mime_type,
                media.size,
                media.alt,
                media.author_id,
                media.date_created,
                media.date_modified,
            ),
        )
        for dim in media.dimensions:
            conn.execute(
                "INSERT INTO media_dimensions (media_dimension_id, media_id, label, width, height) "
                "VALUES (?,?,?,?,?)",
                (new_id(), media.media_id, dim.label, dim.width, dim.height),
            )

    def update(self, media: Media) -> None:
        self.db.connection().execute(
            "UPDATE media SET name = ?, alt = ?, date_modified = ? WHERE media_id = ?",
            (media.name, media.alt, media.date_modified, media.media_id),
        )

    def delete(self, media_id: str) -> None:
        self.db.connection().execute("DELETE FROM media WHERE media_id = ?", (media_id,))

    def references(self, media_id: str) -> int:
        """How many stored values of media fields point at this file."""
        return int(
            self.db.scalar(
                "SELECT count(*) FROM content_fields v JOIN fields f ON f.field_id = v.field_id "
                "WHERE f.type = 'media' AND v.field_value = ?",
                (media_id,),
            )
        )


def media_row(media: Media) -> dict[str, Any]:
    """The audit/hook representation of a media file."""
    return {
        "media_id": media.media_id,
        "name": media.name,
        "filename": media.filename,
        "mime_type": media.mime_type,
        "size": media.size,
        "alt": media.alt,
    }
