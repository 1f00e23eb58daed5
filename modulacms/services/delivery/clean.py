"""``clean``: one flat object per node, typed field keys, children nested."""

from __future__ import annotations

from typing import Any

from modulacms.core.models import RouteTree, TreeNode
from modulacms.services.delivery.common import grouped, typed_fields


def node(item: TreeNode) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": item.id,
        "type": item.datatype.name,
        "_meta": {
            "authorId": item.node.author_id,
            "routeId": item.node.route_id,
            "dateCreated": item.node.date_created,
            "dateModified": item.node.date_modified,
        },
    }
    for key, _, value in typed_fields(item):
        data.setdefault(key, value)
    children = grouped(item, node)
    if children is not None:
        data[children[0]] = children[1]
    return data


def render(tree: RouteTree) -> dict[str, Any] | None:
    return None if tree.root is None else node(tree.root)
