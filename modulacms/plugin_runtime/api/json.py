"""The ``json`` module (spec §9.1).

``json.encode(v)`` → string (``nil`` → ``"null"``, empty table → ``{}``, Go formatting,
NaN/Inf raise ``json.encode: …``). ``json.decode(s)`` → value (arrays drop nulls, null →
nil); a non-string argument raises (numbers are coerced), invalid JSON raises
``json.decode: …``. Beyond the original: the input of ``decode`` is capped
(``max_decode_bytes``) and its nesting depth limited, so a plugin cannot make the host
build an arbitrarily large Python object; the result must also fit the VM's memory.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from modulacms.plugin_runtime import gojson
from modulacms.plugin_runtime.api.args import string_arg
from modulacms.plugin_runtime.convert import from_lua
from modulacms.plugin_runtime.sandbox import HostRaise

if TYPE_CHECKING:
    from modulacms.plugin_runtime.vm import PluginVM

MAX_DECODE_BYTES = 2 * 1024 * 1024


def nesting_within(value: Any, limit: int) -> bool:
    """True when ``value`` nests no deeper than ``limit`` (iterative)."""
    stack = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children = list(item.values())
        elif isinstance(item, list):
            children = item
        else:
            continue
        if level > limit:
            return False
        stack.extend((child, level + 1) for child in children)
    return True


def install(vm: PluginVM) -> Any:
    sandbox = vm.sandbox
    max_depth = sandbox.limits.max_depth

    def encode(value: Any = None, *_: Any) -> tuple[Any, ...]:
        try:
            return (gojson.encode_converted(from_lua(value)),)
        except (gojson.JsonEncodeError, ValueError) as exc:
            raise HostRaise(f"json.encode: {exc}") from None

    def decode(text: Any = None, *_: Any) -> tuple[Any, ...]:
        source = string_arg(text, 1, "decode")
        if len(source) > MAX_DECODE_BYTES:
            raise HostRaise(f"json.decode: input larger than {MAX_DECODE_BYTES} bytes")
        try:
            value = gojson.decode(source)
        except RecursionError:
            raise HostRaise("json.decode: nesting too deep") from None
        except ValueError as exc:
            raise HostRaise(f"json.decode: {exc}") from None
        if not nesting_within(value, max_depth):
            raise HostRaise(f"json.decode: nesting deeper than {max_depth} levels")
        return (value,)

    real = sandbox.table()
    real[b"encode"] = sandbox.lua_function(encode, "json.encode")
    real[b"decode"] = sandbox.lua_function(decode, "json.decode")
    return real
