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
from itertools import repeat
from typing import Any, TypeAlias

from lupa import lua51

LuaScalar: TypeAlias = None | bool | int | float | str | bytes
LuaValue: TypeAlias = LuaScalar | list["LuaValue"] | dict[str, "LuaValue"]

_TABLE = type(lua51.LuaRuntime().table())
_SCALARS = frozenset({int, float, bool, type(None)})

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


class ConversionError(ValueError):
    """A Lua value too large or too deep (or cyclic) to hand to the host."""


MAX_DEPTH = 32
MAX_NODES = 100_000


_SLICE = 4000
"""Values taken from Lua per call when reading flattened rows (Lua 5.1 allows ~8000)."""
_MIN_ROWS = 4
"""Lists shorter than this are converted row by row."""


class RowReader:
    """Kernel functions that read a list of uniform rows in a few calls (see
    ``K.rows_flat`` in kernel.lua); one per VM, handed to :func:`from_lua`."""

    __slots__ = ("flatten", "slice")

    def __init__(self, flatten: Any, slice_: Any) -> None:
        self.flatten = flatten
        self.slice = slice_

    def values(self, flat: Any, total: int) -> list[Any]:
        out: list[Any] = []
        for start in range(1, total + 1, _SLICE):
            end = min(total, start + _SLICE - 1)
            got = self.slice(flat, start, end)
            if start == end:
                out.append(got)  # one result comes back bare, not as a tuple
            else:
                out.extend(got)
        return out


class _Budget:
    __slots__ = ("left", "max_depth", "max_nodes", "rows")

    def __init__(self, max_depth: int, max_nodes: int, rows: RowReader | None) -> None:
        self.left = max_nodes
        self.max_depth = max_depth
        self.max_nodes = max_nodes
        self.rows = rows


class _NotScalar(Exception):
    pass


def _not_scalar() -> LuaValue:
    raise _NotScalar


def from_lua(
    value: object,
    *,
    max_depth: int = MAX_DEPTH,
    max_nodes: int = MAX_NODES,
    rows: RowReader | None = None,
) -> LuaValue:
    """Convert a Lua value to plain Python data per spec §3.

    Tables are read raw (no metamethod runs). At most ``max_nodes`` values are converted
    and tables nest at most ``max_depth`` levels (a reference cycle exceeds it); beyond
    that :class:`ConversionError` is raised, so a hostile value (a cycle, a shared
    subtable repeated 2^40 times) cannot make the host loop or allocate without bound.
    With ``rows`` (the VM's kernel functions), a list of uniform rows of scalars is read
    in a few calls instead of one iteration per row; the result is the same.
    """
    if type(value) is not _TABLE:
        return _scalar(value)
    return _table(value, _Budget(max_depth, max_nodes, rows), 1)


def _uniform_rows(table: Any, count: int, budget: _Budget) -> list[LuaValue] | None:
    """``count`` rows read through the kernel, or None when they are not uniform rows of
    UTF-8 keys and scalar values (the caller then converts row by row)."""
    reader = budget.rows
    assert reader is not None
    found = reader.flatten(table, count)
    if type(found) is not tuple:
        return None
    width, total, flat = found
    cost = count * (width + 1)
    if budget.left - cost < 0:
        return None  # the row-by-row path raises the size error with its usual message
    values = reader.values(flat, total)
    try:
        keys = [k.decode() for k in values[:width]]
        cells = [
            v.decode() if type(v) is bytes else v if type(v) in _SCALARS else _not_scalar()
            for v in values[width:]
        ]
    except (_NotScalar, UnicodeDecodeError):
        return None
    budget.left -= cost
    per_row = zip(*[iter(cells)] * width, strict=True)  # consecutive groups of `width`
    return list(map(dict, map(zip, repeat(keys), per_row)))


def _scalar(value: Any) -> LuaValue:
    kind = type(value)
    if kind is bytes:
        try:
            return str(value.decode("utf-8"))
        except UnicodeDecodeError:
            return value  # type: ignore[no-any-return]
    if kind in _SCALARS:
        return value  # type: ignore[no-any-return]
    return None


def _nested(value: Any, budget: _Budget, depth: int) -> LuaValue:
    """A non-scalar value: a table converted, anything else (a function ...) None."""
    return _table(value, budget, depth) if type(value) is _TABLE else None


def _table(table: Any, budget: _Budget, depth: int) -> LuaValue:
    if depth > budget.max_depth:
        raise ConversionError(
            f"value nested too deeply (more than {budget.max_depth} levels, or a cycle)"
        )
    items = list(table.items())
    budget.left -= len(items) + 1
    if budget.left < 0:
        raise ConversionError(f"value too large (more than {budget.max_nodes} entries)")
    if not items:
        return {}
    inner = depth + 1
    left = budget.left
    if type(items[0][0]) is int and all(type(k) is int for k, _ in items):
        keys = [k for k, _ in items]
        if keys[0] != 1 or keys[-1] != len(keys):
            keys.sort()
            items.sort(key=lambda kv: kv[0])
        if keys[0] == 1 and keys[-1] == len(keys):
            if (
                budget.rows is not None
                and len(keys) >= _MIN_ROWS
                and inner <= budget.max_depth
                and type(items[0][1]) is _TABLE
            ):
                fast = _uniform_rows(table, len(keys), budget)
                if fast is not None:
                    return fast
            try:
                return [
                    v.decode()
                    if type(v) is bytes
                    else v
                    if type(v) in _SCALARS
                    else _nested(v, budget, inner)
                    for _, v in items
                ]
            except UnicodeDecodeError:
                budget.left = left
                return [
                    _table(v, budget, inner) if type(v) is _TABLE else _scalar(v) for _, v in items
                ]
    # The common case in one comprehension: UTF-8 string keys and values. Anything else
    # (a number key, a string that is not UTF-8) takes the careful loop below.
    try:
        return {
            k.decode(): v.decode()
            if type(v) is bytes
            else v
            if type(v) in _SCALARS
            else _nested(v, budget, inner)
            for k, v in items
        }
    except (AttributeError, UnicodeDecodeError):
        budget.left = left
    out: dict[str, LuaValue] = {}
    for k, v in items:
        name = k.decode("utf-8", "replace") if type(k) is bytes else _key(k)
        if name is None:
            continue
        kind = type(v)
        if kind is bytes:
            try:
                out[name] = v.decode("utf-8")
            except UnicodeDecodeError:
                out[name] = v
        elif kind is _TABLE:
            out[name] = _table(v, budget, inner)
        elif kind in _SCALARS:
            out[name] = v
        else:
            out[name] = None
    return out


def from_lua_map(value: object) -> dict[str, LuaValue] | None:
    """A Lua table as a map (an empty table is ``{}``); None when not a table."""
    converted = from_lua(value)
    if isinstance(converted, dict):
        return converted
    if isinstance(converted, list):
        return {str(i + 1): v for i, v in enumerate(converted)}
    return None


def _flat_rows(rows: list[Any]) -> tuple[list[dict[bytes, Any]], int] | None:
    """Fast path of :func:`prepare` for database rows: dicts of str keys to scalars."""
    out = []
    total = 0
    slots = 0
    for row in rows:
        if type(row) is not dict:
            return None
        item: dict[bytes, Any] = {}
        for key, value in row.items():
            kind = type(value)
            if kind is str:
                raw = value.encode("utf-8", "surrogateescape")
                total += len(raw) + len(key)
                item[key.encode()] = raw
            elif kind is int or kind is float or kind is bool or kind is bytes:
                if kind is int and not -_EXACT <= value <= _EXACT:
                    return None
                total += len(key) + (len(value) if kind is bytes else 0)
                item[key.encode()] = value
            elif value is not None:
                return None
        slots += len(item)
        out.append(item)
    cost = _TABLE_COST * (len(out) + 1) + slots * (_SLOT_COST + 2 * _STRING_COST) + total
    return out, cost


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
    if type(value) is dict:
        flat = _flat_rows([value])
        if flat is not None:
            return flat[0][0], flat[1]
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
        if value and type(value[0]) is dict and type(value) is list:
            fast = _flat_rows(value)
            if fast is not None:
                return fast
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
