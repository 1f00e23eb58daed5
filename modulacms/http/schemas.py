"""JSON Schemas of the models the API returns, derived from their dataclasses.

Deriving them keeps the OpenAPI document true when a model gains a field: the schema of
``Route`` is whatever ``core.models.Route`` holds, rendered the way ``jsonable`` renders it.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from enum import Enum
from typing import Any

Schema = dict[str, Any]


def jsonable(value: Any) -> Any:
    """Dataclasses, enums, sets and tuples as plain JSON values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted(jsonable(v) for v in value)
    return value


def schema_of(cls: type, components: dict[str, Schema]) -> Schema:
    """A ``$ref`` to ``cls``'s schema, adding it (and what it uses) to ``components``."""
    name = cls.__name__
    if name not in components:
        components[name] = {}  # placeholder against recursion
        hints = typing.get_type_hints(cls)
        props = {f.name: _type(hints[f.name], components) for f in dataclasses.fields(cls)}
        components[name] = {
            "type": "object",
            "required": sorted(props),
            "properties": props,
        }
    return {"$ref": f"#/components/schemas/{name}"}


def _type(hint: Any, components: dict[str, Schema]) -> Schema:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in args if a is not type(None)]
        inner = _type(options[0], components) if len(options) == 1 else {}
        return {"anyOf": [inner, {"type": "null"}]} if type(None) in args else inner
    if hint is str:
        return {"type": "string"}
    if hint is bool:
        return {"type": "boolean"}
    if hint is int:
        return {"type": "integer"}
    if hint is float:
        return {"type": "number"}
    if isinstance(hint, type) and issubclass(hint, Enum):
        return {"type": "string", "enum": [m.value for m in hint]}
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return schema_of(hint, components)
    if origin in (list, tuple, set, frozenset):
        item = args[0] if args else Any
        return {"type": "array", "items": _type(item, components) if item is not Any else {}}
    if origin is dict or hint is dict:
        value = args[1] if len(args) == 2 else Any
        inner = _type(value, components) if value is not Any else {}
        return {"type": "object", "additionalProperties": inner}
    return {}
