"""``sanity``: Sanity documents, ``_``-prefixed system keys next to the fields.

Slug fields (and any field named ``slug``) become ``{"_type": "slug", "current": ...}``
and rich text becomes one Portable Text block holding the stored text in a single span,
as in the original.
"""

from __future__ import annotations

from typing import Any

from modulacms.core.models import FieldType, RouteTree, TreeNode
from modulacms.services.delivery.common import grouped, typed_fields


def _value(key: str, field_type: FieldType, value: Any) -> Any:
    if value is None:
        return None
    if field_type is FieldType.SLUG or key == "slug":
        return {"_type": "slug", "current": value}
    if field_type is FieldType.RICHTEXT:
        return [{"_type": "block", "children": [{"_type": "span", "text": value}]}]
    return value


def document(item: TreeNode) -> dict[str, Any]:
    data: dict[str, Any] = {
        "_id": item.id,
        "_type": item.datatype.name,
        "_createdAt": item.node.date_created,
        "_updatedAt": item.node.date_modified,
        "_rev": f"v{item.node.revision}",
    }
    for key, field_type, value in typed_fields(item):
        data.setdefault(key, _value(key, field_type, value))
    children = grouped(item, document)
    if children is not None:
        data[children[0]] = children[1]
    return data


def render(tree: RouteTree) -> dict[str, Any] | None:
    return None if tree.root is None else document(tree.root)
