"""Argument checks for host functions, with Lua's own error wording."""

from __future__ import annotations

import math
from typing import Any

from modulacms.plugin_runtime.convert import LuaValue, from_lua, lua_type
from modulacms.plugin_runtime.sandbox import HostRaise


def type_name(value: Any) -> str:
    """The Lua type name of a raw argument."""
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, bytes):
        return "string"
    return lua_type(value) or "userdata"


def bad_argument(index: int, function: str, message: str) -> HostRaise:
    return HostRaise(f"bad argument #{index} to '{function}' ({message})")


def number_text(value: int | float) -> str:
    """A Lua number as ``tostring`` prints it (``%.14g``)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if math.isnan(value):
        return "nan" if math.copysign(1.0, value) > 0 else "-nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return format(value, ".14g")


def string_arg(value: Any, index: int, function: str) -> str:
    """A string argument (numbers are coerced like Lua does)."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return number_text(value)
    got = "no value" if value is None else type_name(value)
    raise bad_argument(index, function, f"string expected, got {got}")


def table_arg(value: Any, index: int, function: str) -> LuaValue:
    if lua_type(value) != "table":
        got = "no value" if value is None else type_name(value)
        raise bad_argument(index, function, f"table expected, got {got}")
    return from_lua(value)


def optional_table(value: Any) -> dict[str, LuaValue]:
    """A table argument as a map; anything else (nil, non-table) as ``{}``."""
    if lua_type(value) != "table":
        return {}
    converted = from_lua(value)
    if isinstance(converted, dict):
        return converted
    if isinstance(converted, list):
        return {str(i + 1): v for i, v in enumerate(converted)}
    return {}
