"""Identifier types and generation (26-character ULIDs).

A ULID is a 48-bit millisecond timestamp followed by 80 random bits, written in Crockford
base32. Ids made in the same millisecond by this process count up from the first one's
random part, so ids sort in the order they were made. Generation is hot (every node and
every field value gets one), hence the table-driven encoder instead of a generic library.
"""

from __future__ import annotations

import os
import threading
import time
from typing import NewType

ContentId = NewType("ContentId", str)
DatatypeId = NewType("DatatypeId", str)
FieldId = NewType("FieldId", str)
RouteId = NewType("RouteId", str)
SiteId = NewType("SiteId", str)
UserId = NewType("UserId", str)
RoleId = NewType("RoleId", str)

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_PAIRS = [a + b for a in ALPHABET for b in ALPHABET]  # 10 bits -> two characters
_RANDOM_MAX = (1 << 80) - 1
_lock = threading.Lock()
_last_ms = 0
_last_random = 0


def _encode(value: int) -> str:
    """128 bits as 26 base32 characters (the top two bits of the 130 are zero)."""
    return "".join([_PAIRS[(value >> shift) & 1023] for shift in range(120, -1, -10)])


def new_id() -> str:
    """A fresh ULID as text, monotonic within this process."""
    global _last_ms, _last_random
    now_ms = time.time_ns() // 1_000_000
    with _lock:
        if now_ms <= _last_ms and _last_random < _RANDOM_MAX:
            now_ms = _last_ms
            random_part = _last_random + 1
        else:
            random_part = int.from_bytes(os.urandom(10), "big")
        _last_ms, _last_random = now_ms, random_part
    return _encode((now_ms << 80) | random_part)


def id_time_ms(ulid: str) -> int:
    """The millisecond timestamp inside a ULID."""
    value = 0
    for char in ulid[:10]:
        value = value * 32 + ALPHABET.index(char)
    return value
