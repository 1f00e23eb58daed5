"""Identifier types and generation (26-character ULIDs)."""

from __future__ import annotations

from typing import NewType

from ulid import ULID

ContentId = NewType("ContentId", str)
DatatypeId = NewType("DatatypeId", str)
FieldId = NewType("FieldId", str)
RouteId = NewType("RouteId", str)
SiteId = NewType("SiteId", str)
UserId = NewType("UserId", str)
RoleId = NewType("RoleId", str)


def new_id() -> str:
    """A fresh ULID as text (time-ordered, 26 Crockford base32 characters)."""
    return str(ULID())
