"""Value conversion between Lua and Python (spec §3), the only place ``Any`` is handled.

Lua → Python (:func:`from_lua`) reads tables **raw** (lupa's ``items()`` walks with
``lua_next``), so no metamethod of plugin code runs while the host converts. The kernel
has already checked every table for depth, size and cycles before the host sees it.
Strings arrive as ``bytes`` (the runtime uses ``encoding=None`` so lupa never raises a
decode error inside a callback) and become ``str`` when they are valid UTF-8.

Python → Lua (:func:`prepare`) produces only ``bytes``, numbers, booleans, lists and
dicts, so lupa never wraps a Python object for Lua; ``None`` list elements are skipped and
``None`` map values dropped, as the spec requires. It also returns an upper bound of the
Lua heap the value will take, checked against the VM's headroom before anything is pushed.
"""

from __future__ import annotations

import math
from typing import Any, TypeAlias

from lupa import lua51

LuaScalar: TypeAlias = None | bool | int | float | str | bytes
LuaValue: TypeAlias = LuaScalar | list["LuaValue"] | dict[str, "LuaValue"]

# Conservative per-object costs of the Lua 5.1 heap on 64-bit builds.
_STRING_COST = 48
_TABLE_COST = 96
_SLOT_COST = 96
_EXACT = 2**53


def lua_type(value: object) -> str | None:
    """Lua type name of a lupa object (``"table"``, ``"function"`` ...), else None."""
    return lua51.lua_type(value)  # type: ignore[no-any-return]


def _key(key: object) -> str | None:
    if isinstance(key, bytes):
        return key.decode("utf-8", "replace")
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, int):
        return str(key)
    if isinstance(key, float):
        return format(key, ".14g")
    return None


def _string(raw: bytes) -> str | bytes:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw


def from_lua(value: object) -> LuaValue:
    """Convert a (checked) Lua value to plain Python data per spec §3."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, bytes):
        return _string(value)
    if lua_type(value) != "table":
        return None  # functions, threads, userdata
    table: Any = value
    items = list(table.items())
    if items and all(type(k) is int for k, _ in items):
        keys = sorted(k for k, _ in items)
        if keys[0] == 1 and keys[-1] == len(keys):
            items.sort(key=lambda kv: kv[0])
            return [from_lua(v) for _, v in items]
    out: dict[str, LuaValue] = {}
    for k, v in items:
        name = _key(k)
        if name is not None:
            out[name] = from_lua(v)
    return out


def from_lua_map(value: object) -> dict[str, LuaValue] | None:
    """A Lua table as a map (an empty table is ``{}``); None when not a table."""
    converted = from_lua(value)
    if isinstance(converted, dict):
        return converted
    if isinstance(converted, list):
        return {str(i + 1): v for i, v in enumerate(converted)}
    return None


def prepare(value: object) -> tuple[Any, int]:
    """Turn Python data into lupa-safe data plus an upper bound of its Lua heap cost.

    ``str`` becomes UTF-8 ``bytes``; lists drop ``None`` elements; dicts drop ``None``
    values and non-string keys become their string form; any other type (datetime,
    Decimal ...) becomes ``None``. Tuples count as lists.
    """
    if value is None or isinstance(value, bool):
        return value, 0
    if isinstance(value, int):
        # Lua 5.1 numbers are doubles; lupa would raise on integers beyond 64 bits.
        return (value if -_EXACT <= value <= _EXACT else float(value)), 0
    if isinstance(value, float):
        return value, 0
    if isinstance(value, str):
        raw = value.encode("utf-8", "surrogateescape")
        return raw, _STRING_COST + len(raw)
    if isinstance(value, bytes | bytearray | memoryview):
        raw = bytes(value)
        return raw, _STRING_COST + len(raw)
    if isinstance(value, dict):
        out: dict[bytes | int, Any] = {}
        cost = _TABLE_COST
        for k, v in value.items():
            if v is None:
                continue
            pk: bytes | int
            if isinstance(k, str):
                pk = k.encode("utf-8", "surrogateescape")
            elif isinstance(k, bytes):
                pk = k
            elif isinstance(k, int) and not isinstance(k, bool):
                pk = k
            else:
                continue
            pv, c = prepare(v)
            if pv is None:
                continue
            out[pk] = pv
            cost += c + _SLOT_COST + (_STRING_COST + len(pk) if isinstance(pk, bytes) else 0)
        return out, cost
    if isinstance(value, list | tuple):
        seq: list[Any] = []
        cost = _TABLE_COST
        for v in value:
            pv, c = prepare(v)
            if pv is None:
                continue
            seq.append(pv)
            cost += c + _SLOT_COST
        return seq, cost
    return None, 0


def is_finite_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
