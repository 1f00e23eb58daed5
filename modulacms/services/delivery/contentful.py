"""``contentful``: Contentful's Entry shape, ``{sys: {...}, fields: {...}}``."""

from __future__ import annotations

from typing import Any

from modulacms.core.models import RouteTree, TreeNode
from modulacms.services.delivery.common import grouped, typed_fields


def entry(item: TreeNode) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for key, _, value in typed_fields(item):
        fields.setdefault(key, value)
    children = grouped(item, entry)
    if children is not None:
        fields[children[0]] = children[1]
    return {
        "sys": {
            "id": item.id,
            "type": "Entry",
            "contentType": {
                "sys": {"id": item.datatype.name, "type": "Link", "linkType": "ContentType"}
            },
            "createdAt": item.node.date_created,
            "updatedAt": item.node.date_modified,
            "revision": item.node.revision,
        },
        "fields": fields,
    }


def render(tree: RouteTree) -> dict[str, Any] | None:
    return None if tree.root is None else entry(tree.root)
