"""``raw``: the original ModulaCMS tree, ``{"root": Node}``.

``Node = {"datatype": {"info", "content"}, "fields": [{"info", "content"}], "nodes": [...]}``
with ``nodes`` left out for leaves. Field values stay the stored text. Where the original
wrote the string ``"null"``, empty strings or integer ``0`` ids, this emits ``null`` and the
real ids; ``sort_order`` is a number and ``translatable``/``required`` are booleans.
``content_field_id`` is ``null`` because snapshots keep values per field, not per row, and
a value's dates are its node's. The datatype ``type`` is ``"_root"`` for the tree's root
and ``"content"`` below it.
"""

from __future__ import annotations

from typing import Any

from modulacms.core.models import RouteTree, TreeNode


def _datatype(item: TreeNode, is_root: bool) -> dict[str, Any]:
    datatype, node = item.datatype, item.node
    return {
        "info": {
            "datatype_id": datatype.datatype_id,
            "parent_id": None,
            "name": datatype.name,
            "label": datatype.label,
            "description": datatype.description,
            "type": "_root" if is_root else "content",
            "author_id": datatype.author_id,
            "date_created": datatype.date_created,
            "date_modified": datatype.date_modified,
        },
        "content": {
            "content_data_id": node.content_data_id,
            "parent_id": node.parent_id,
            "first_child_id": node.first_child_id,
            "next_sibling_id": node.next_sibling_id,
            "prev_sibling_id": node.prev_sibling_id,
            "root_id": node.root_id,
            "route_id": node.route_id,
            "datatype_id": node.datatype_id,
            "author_id": node.author_id,
            "status": node.status.value,
            "date_created": node.date_created,
            "date_modified": node.date_modified,
            "published_at": node.published_at,
            "published_by": node.published_by,
            "publish_at": node.publish_at,
            "revision": node.revision,
        },
    }


def _fields(item: TreeNode) -> list[dict[str, Any]]:
    node = item.node
    out = []
    for attached in item.fields:
        field = attached.field
        out.append(
            {
                "info": {
                    "field_id": field.field_id,
                    "parent_id": node.content_data_id,
                    "sort_order": attached.sort_order,
                    "name": field.name,
                    "label": field.label,
                    "type": field.type.value,
                    "validation": field.validation,
                    "ui_config": field.ui_config,
                    "translatable": field.translatable,
                    "required": attached.required,
                    "author_id": field.author_id,
                    "date_created": field.date_created,
                    "date_modified": field.date_modified,
                },
                "content": {
                    "content_field_id": None,
                    "route_id": node.route_id,
                    "root_id": node.root_id,
                    "content_data_id": node.content_data_id,
                    "field_id": field.field_id,
                    "field_value": item.values.get(field.name),
                    "author_id": node.author_id,
                    "date_created": node.date_created,
                    "date_modified": node.date_modified,
                },
            }
        )
    return out


def node(item: TreeNode, is_root: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {"datatype": _datatype(item, is_root), "fields": _fields(item)}
    if item.children:
        data["nodes"] = [node(child) for child in item.children]
    return data


def render(tree: RouteTree) -> dict[str, Any]:
    return {"root": None if tree.root is None else node(tree.root, True)}
