"""Helpers shared by the delivery formats: keys, typed values, child grouping."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from modulacms.core.models import FieldType, TreeNode

T = TypeVar("T")


def camel(name: str) -> str:
    """``meta_title`` -> ``metaTitle``."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest if part)


def plural(name: str) -> str:
    """English plural of a name: ``card`` -> ``cards``, ``entry`` -> ``entries``."""
    if name.endswith(("s", "x", "z", "ch", "sh")):
        return name + "es"
    if name.endswith("y") and len(name) > 1 and name[-2] not in "aeiou":
        return name[:-1] + "ies"
    return name + "s"


def typed(field_type: FieldType, stored: str | None) -> Any:
    """The JSON value of stored text; text that does not parse as its type stays text."""
    if stored is None or stored == "":
        return None
    try:
        if field_type is FieldType.NUMBER:
            number = float(stored)
            return int(number) if number.is_integer() and abs(number) < 2**53 else number
        if field_type is FieldType.BOOLEAN:
            return stored.strip().lower() in ("true", "1")
        if field_type is FieldType.JSON:
            return json.loads(stored)
    except ValueError:
        return stored
    return stored


def typed_fields(node: TreeNode) -> Iterator[tuple[str, FieldType, Any]]:
    """(camelCase key, field type, typed value) for every field of ``node``, in order."""
    for attached in node.fields:
        field = attached.field
        yield camel(field.name), field.type, typed(field.type, node.values.get(field.name))


def group_key(children: tuple[TreeNode, ...]) -> str:
    """Where children go: the plural of their shared datatype name, else ``children``."""
    names = {child.datatype.name for child in children}
    if len(names) == 1:
        return camel(plural(names.pop()))
    return "children"


def grouped(node: TreeNode, render: Callable[[TreeNode], T]) -> tuple[str, list[T]] | None:
    """``(key, rendered children)`` or ``None`` for a leaf."""
    if not node.children:
        return None
    return group_key(node.children), [render(child) for child in node.children]
