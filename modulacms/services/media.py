"""Media: files kept in the project's ``media/`` folder and described in ``media``.

A file is stored as ``<id>-<safe name>`` so that two uploads of ``logo.png`` never clash;
its type comes from the name, and PNG, GIF and JPEG files get an ``original`` dimension.
A file still used by a media field of any content (live, trashed or in a draft) cannot be
deleted.
"""

from __future__ import annotations

import mimetypes
import re
from dataclasses import replace
from pathlib import Path

from modulacms.core.clock import now
from modulacms.core.ids import new_id
from modulacms.core.images import image_size
from modulacms.core.models import Actor, Media, MediaDimension
from modulacms.db.connection import Database
from modulacms.db.repositories.audit import AuditRepository
from modulacms.db.repositories.media import MediaRepository, media_row
from modulacms.errors import Conflict, ErrorCollector, NotFound

DEFAULT_MAX_BYTES = 25 * 1024 * 1024
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(filename: str) -> str:
    """A file name reduced to letters, digits, ``.``, ``_`` and ``-`` (never empty or hidden)."""
    base = Path(filename.replace("\\", "/")).name
    cleaned = _UNSAFE.sub("-", base).strip(".-") or "file"
    return cleaned[:120]


class MediaService:
    """Add, list, describe and delete media files."""

    def __init__(
        self,
        db: Database,
        audit: AuditRepository,
        root: Path,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        self.db = db
        self.audit = audit
        self.repo = MediaRepository(db)
        self.root = root
        self.max_bytes = max_bytes

    def list(
        self, actor: Actor, *, search: str | None = None, limit: int = 50, offset: int = 0
    ) -> tuple[list[Media], int]:
        actor.require("media:read")
        return self.repo.list(search, max(1, min(limit, 500)), max(0, offset))

    def get(self, media_id: str) -> Media:
        found = self.repo.get(media_id)
        if found is None:
            raise NotFound("media", media_id)
        return found

    def path(self, media: Media) -> Path:
        """Where the file lives on disk."""
        return self.root / media.filename

    def add(
        self, data: bytes, filename: str, actor: Actor, *, name: str = "", alt: str = ""
    ) -> Media:
        """Store ``data`` as a new media file; returns its record."""
        actor.require("media:create")
        errors = ErrorCollector()
        if not data:
            errors.add("file", "the file is empty")
        if len(data) > self.max_bytes:
            errors.add("file", f"larger than the limit of {self.max_bytes} bytes")
        if not filename.strip():
            errors.add("filename", "required")
        errors.raise_if_any("cannot add media")
        media_id = new_id()
        stored_name = f"{media_id.lower()}-{safe_name(filename)}"
        mime = mimetypes.guess_type(stored_name)[0] or "application/octet-stream"
        size = image_size(data)
        dims = (MediaDimension("original", size[0], size[1]),) if size else ()
        moment = now()
        media = Media(
            media_id,
            name or safe_name(filename),
            stored_name,
            mime,
            len(data),
            alt,
            actor.user_id,
            moment,
            moment,
            dims,
        )
        self.root.mkdir(parents=True, exist_ok=True)
        target = self.path(media)
        partial = target.with_name(target.name + ".part")
        partial.write_bytes(data)
        try:
            with self.db.transaction():
                self.repo.insert(media)
                self.audit.record(actor, "media", media_id, "create", None, media_row(media))
            partial.replace(target)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        return media

    def update(
        self, media_id: str, actor: Actor, *, name: str | None = None, alt: str | None = None
    ) -> Media:
        actor.require("media:update")
        with self.db.transaction():
            old = self.get(media_id)
            new = replace(
                old,
                name=old.name if name is None else name,
                alt=old.alt if alt is None else alt,
                date_modified=now(),
            )
            self.repo.update(new)
            self.audit.record(actor, "media", media_id, "update", media_row(old), media_row(new))
        return new

    def delete(self, media_id: str, actor: Actor) -> None:
        """Delete a file nothing refers to; raises ``Conflict`` while content uses it."""
        actor.require("media:delete")
        with self.db.transaction():
            media = self.get(media_id)
            used = self.repo.references(media_id)
            if used:
                raise Conflict(f"media {media.name} is used by {used} field value(s)")
            self.repo.delete(media_id)
            self.audit.record(actor, "media", media_id, "delete", media_row(media), None)
        self.path(media).unlink(missing_ok=True)
