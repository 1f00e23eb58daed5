"""Media files on disk and in the database."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest

from modulacms.core.images import image_size
from modulacms.core.models import Actor, ActorKind
from modulacms.errors import Conflict, Forbidden, NotFound, ValidationFailed
from modulacms.services.media import safe_name
from modulacms.services.registry import Services


def png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"".join(b"\x00" + b"\x00\x00\x00" * width for _ in range(height)))
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def test_add_stores_the_file_and_its_size(services: Services, system: Actor, db) -> None:
    media = services.media.add(png(3, 2), "../../Team Photo!.png", system, alt="The team")
    assert media.mime_type == "image/png"
    assert [(d.label, d.width, d.height) for d in media.dimensions] == [("original", 3, 2)]
    stored = services.media.path(media)
    assert stored.parent == Path(db.path).parent / "media"
    assert stored.read_bytes() == png(3, 2)
    assert stored.name.endswith("-Team-Photo-.png")
    assert services.media.get(media.media_id) == media
    assert services.media.list(system, search="team")[1] == 1


def test_media_in_use_cannot_be_deleted(services: Services, system: Actor) -> None:
    media = services.media.add(b"%PDF-1.4 x", "brochure.pdf", system)
    services.schema.create_datatype("page", system)
    services.schema.create_field("file", "media", system)
    services.schema.attach("page", "file", system)
    services.routes.create("/", system)
    node = services.content.create("/", "page", {"file": media.media_id}, system)
    with pytest.raises(Conflict, match="used by 1"):
        services.media.delete(media.media_id, system)
    services.content.update(node.content_data_id, {"file": None}, 1, system)
    services.media.delete(media.media_id, system)
    assert not services.media.path(media).exists()
    with pytest.raises(NotFound):
        services.media.get(media.media_id)
    with pytest.raises(ValidationFailed, match="no media"):
        services.content.update(node.content_data_id, {"file": media.media_id}, 2, system)


def test_bad_uploads_and_permissions(services: Services, system: Actor) -> None:
    with pytest.raises(ValidationFailed, match="empty"):
        services.media.add(b"", "x.png", system)
    viewer = Actor(ActorKind.USER, "u", "viewer", frozenset({"media:read"}))
    with pytest.raises(Forbidden):
        services.media.add(b"data", "x.txt", viewer)
    events, total = services.audit.list(system, table="media")
    assert total == 0 and events == []


@pytest.mark.parametrize(
    ("name", "expected"),
    [("a b.png", "a-b.png"), ("../../etc/passwd", "passwd"), (".hidden", "hidden"), ("", "file")],
)
def test_safe_names(name: str, expected: str) -> None:
    assert safe_name(name) == expected


def test_image_sizes() -> None:
    assert image_size(png(7, 5)) == (7, 5)
    assert image_size(b"GIF89a\x0a\x00\x14\x00rest") == (10, 20)
    jpeg = b"\xff\xd8\xff\xe0\x00\x04ab\xff\xc0\x00\x11\x08\x00\x30\x00\x40\x03rest-of-frame"
    assert image_size(jpeg) == (64, 48)
    assert image_size(b"plain text") is None
