"""``strapi``: Strapi v4 responses, ``{data: {id, attributes: {...}}, meta: {}}``."""

from __future__ import annotations

from typing import Any

from modulacms.core.models import RouteTree, TreeNode
from modulacms.services.delivery.common import grouped, typed_fields


def item(node: TreeNode) -> dict[str, Any]:
    attributes: dict[str, Any] = {}
    for key, _, value in typed_fields(node):
        attributes.setdefault(key, value)
    attributes["createdAt"] = node.node.date_created
    attributes["updatedAt"] = node.node.date_modified
    children = grouped(node, item)
    if children is not None:
        attributes[children[0]] = {"data": children[1]}
    return {"id": node.id, "attributes": attributes}


def render(tree: RouteTree) -> dict[str, Any]:
    return {"data": None if tree.root is None else item(tree.root), "meta": {}}
