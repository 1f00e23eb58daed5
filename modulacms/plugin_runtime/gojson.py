"""JSON text exactly as the original's Go ``encoding/json`` writes it (spec §3).

Object keys sorted; ``<``, ``>``, ``&``, U+2028 and U+2029 escaped as ``\\u003c`` ...;
integral numbers without a fraction (``1``, not ``1.0``); other numbers in Go's
shortest form (fixed notation for 1e-6 ≤ |x| < 1e21, ``1e-7`` / ``1e+21`` beyond);
NaN and ±Inf are errors. Used by ``json.encode`` and plugin HTTP responses.
"""

from __future__ import annotations

import json
import math
import re
from decimal import Decimal
from typing import Any

_ESCAPES = (
    ("<", "\\u003c"),
    (">", "\\u003e"),
    ("&", "\\u0026"),
    ("\u2028", "\\u2028"),
    ("\u2029", "\\u2029"),
)
_TOKEN = re.compile(r'"\\u0000F(\d+)\\u0000"')
_INT_LIMIT = 1e21


class JsonEncodeError(ValueError):
    """A value JSON cannot represent (NaN, ±Inf)."""


def go_float(value: float) -> str:
    """Go's ``strconv.FormatFloat`` as ``encoding/json`` uses it."""
    magnitude = abs(value)
    if magnitude != 0 and (magnitude < 1e-6 or magnitude >= _INT_LIMIT):
        mantissa, _, exponent = repr(value).partition("e")
        sign, digits = exponent[0], exponent[1:].lstrip("0") or "0"
        if sign == "+":
            digits = digits.zfill(2)
        return f"{mantissa}e{sign}{digits}"
    return format(Decimal(repr(value)), "f")


def _plain(value: Any, odd: list[float]) -> Any:
    if isinstance(value, float):
        if not math.isfinite(value):
            raise JsonEncodeError(f"json: unsupported value: {value!r}".replace("nan", "NaN"))
        if value == int(value) and abs(value) < _INT_LIMIT:
            return int(value)
        if abs(value) < 1e-4 or abs(value) >= 1e16:
            odd.append(value)
            return f"\x00F{len(odd) - 1}\x00"
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, dict):
        return {str(k): _plain(v, odd) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v, odd) for v in value]
    return value


_EXPONENT = re.compile(r"[0-9]e[-+]")


def _as_text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    raise TypeError(f"json: unsupported type {type(value).__name__}")


_FAST = json.JSONEncoder(
    ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False, default=_as_text
)


def encode_converted(value: Any) -> str:
    """:func:`encode` for values made by ``convert.from_lua`` (integral numbers are
    already ``int``): one C-level ``json.dumps`` unless a number needs Go's formatting."""
    try:
        text = _FAST.encode(value)
    except ValueError:
        return encode(value)  # the slow path names the bad value the way Go does
    # Lua numbers arrive as int when integral (below 2**63), so the only floats Python
    # writes differently from Go are those it puts in exponent form: tiny ones and
    # those of 2**63 and beyond.
    if ("e-" in text or "e+" in text) and _EXPONENT.search(text) is not None:
        return encode(value)
    for raw, escaped in _ESCAPES:
        if raw in text:
            text = text.replace(raw, escaped)
    return text


def encode(value: Any) -> str:
    """Encode plain data (``dict``/``list``/scalars) like Go's ``json.Marshal``."""
    odd: list[float] = []
    text = json.dumps(
        _plain(value, odd),
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
        allow_nan=False,
    )
    for raw, escaped in _ESCAPES:
        if raw in text:
            text = text.replace(raw, escaped)
    if odd:
        text = _TOKEN.sub(lambda m: go_float(odd[int(m.group(1))]), text)
    return text


def _reject_constant(name: str) -> Any:
    raise ValueError(f"invalid character '{name[0]}' looking for beginning of value")


def decode(text: str | bytes) -> Any:
    """Strict JSON (no NaN/Infinity literals); raises ``ValueError``."""
    return json.loads(text, parse_constant=_reject_constant)
