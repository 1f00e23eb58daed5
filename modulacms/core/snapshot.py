"""Published snapshots: a route tree frozen as JSON, and back.

A snapshot holds everything any delivery format needs (node columns, datatype, the field
definitions in order and the stored values of every locale), so rendering a published page
never touches the live tables. Shape::

    {"format": 1, "route": {...}, "version": 3, "published_at": "...",
     "root": {"node": {...}, "datatype": {...}, "fields": [{"field": {...},
              "sort_order": 0, "required": false}], "values": {"": {"title": "Hi"}},
              "children": [...]}}
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from modulacms.core.models import (
    ContentNode,
    ContentStatus,
    Datatype,
    DatatypeField,
    Field,
    FieldType,
    Route,
    RouteTree,
    TreeNode,
)

FORMAT = 1


def _node_json(
    tree: TreeNode, locales: dict[str, dict[str, dict[str, str | None]]]
) -> dict[str, Any]:
    node = asdict(tree.node)
    node["status"] = tree.node.status.value
    fields = []
    for df in tree.fields:
        field = asdict(df.field)
        field["type"] = df.field.type.value
        fields.append({"field": field, "sort_order": df.sort_order, "required": df.required})
    values = locales.get(tree.id) or {"": dict(tree.values)}
    return {
        "node": node,
        "datatype": asdict(tree.datatype),
        "fields": fields,
        "values": values,
        "children": [_node_json(child, locales) for child in tree.children],
    }


def to_snapshot(
    tree: RouteTree,
    version: int,
    published_at: str,
    locales: dict[str, dict[str, dict[str, str | None]]] | None = None,
) -> dict[str, Any]:
    """The snapshot document of ``tree``.

    ``locales`` maps node id to ``{locale: {field name: value}}`` for translated values;
    without it only the tree's own (single-locale) values are kept.
    """
    return {
        "format": FORMAT,
        "route": asdict(tree.route),
        "version": version,
        "published_at": published_at,
        "node_count": tree.node_count,
        "root": None if tree.root is None else _node_json(tree.root, locales or {}),
    }


def _node_from(data: dict[str, Any], locale: str) -> TreeNode:
    raw = dict(data["node"])
    raw["status"] = ContentStatus(raw["status"])
    attached = []
    for item in data["fields"]:
        field = dict(item["field"])
        field["type"] = FieldType(field["type"])
        attached.append(
            DatatypeField(
                datatype_id=data["datatype"]["datatype_id"],
                field=Field(**field),
                sort_order=item["sort_order"],
                required=item["required"],
            )
        )
    by_locale: dict[str, dict[str, str | None]] = data["values"]
    values = dict(by_locale.get("", {}))
    if locale:
        values.update({k: v for k, v in by_locale.get(locale, {}).items() if v is not None})
    return TreeNode(
        node=ContentNode(**raw),
        datatype=Datatype(**data["datatype"]),
        fields=tuple(attached),
        values={df.field.name: values.get(df.field.name) for df in attached},
        children=tuple(_node_from(child, locale) for child in data["children"]),
    )


def from_snapshot(document: dict[str, Any], locale: str = "") -> RouteTree:
    """The route tree stored in a snapshot document, values in ``locale`` (fallback ``""``)."""
    root = document["root"]
    return RouteTree(
        route=Route(**document["route"]),
        root=None if root is None else _node_from(root, locale),
        node_count=int(document["node_count"]),
    )
