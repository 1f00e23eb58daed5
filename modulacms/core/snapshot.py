"""Published snapshots: a route tree frozen as JSON, and back.

A snapshot holds everything any delivery format needs (node columns, datatype, the field
definitions in order and the stored values of every locale), so rendering a published page
never touches the live tables. Shape::

    {"format": 2, "route": {...}, "version": 3, "published_at": "...", "node_count": 2,
     "datatypes": {"<datatype id>": {"datatype": {...}, "fields": [{"field": {...},
                   "sort_order": 0, "required": false}]}},
     "root": {"node": {...}, "values": {"": {"title": "Hi"}}, "children": [...]}}

Datatypes and their field definitions are stored once per snapshot, not once per node.
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

FORMAT = 2


def _datatypes_json(tree: TreeNode) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for item in tree.walk():
        if item.datatype.datatype_id in found:
            continue
        fields = []
        for df in item.fields:
            field = asdict(df.field)
            field["type"] = df.field.type.value
            fields.append({"field": field, "sort_order": df.sort_order, "required": df.required})
        found[item.datatype.datatype_id] = {"datatype": asdict(item.datatype), "fields": fields}
    return found


def _node_json(
    tree: TreeNode, locales: dict[str, dict[str, dict[str, str | None]]]
) -> dict[str, Any]:
    node = asdict(tree.node)
    node["status"] = tree.node.status.value
    return {
        "node": node,
        "values": locales.get(tree.id) or {"": dict(tree.values)},
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
        "datatypes": {} if tree.root is None else _datatypes_json(tree.root),
        "root": None if tree.root is None else _node_json(tree.root, locales or {}),
    }


def _datatypes_from(
    document: dict[str, Any],
) -> dict[str, tuple[Datatype, tuple[DatatypeField, ...]]]:
    found = {}
    for datatype_id, entry in document["datatypes"].items():
        attached = []
        for item in entry["fields"]:
            field = dict(item["field"])
            field["type"] = FieldType(field["type"])
            attached.append(
                DatatypeField(datatype_id, Field(**field), item["sort_order"], item["required"])
            )
        found[datatype_id] = (Datatype(**entry["datatype"]), tuple(attached))
    return found


def _node_from(
    data: dict[str, Any],
    datatypes: dict[str, tuple[Datatype, tuple[DatatypeField, ...]]],
    locale: str,
) -> TreeNode:
    raw = dict(data["node"])
    raw["status"] = ContentStatus(raw["status"])
    datatype, attached = datatypes[raw["datatype_id"]]
    by_locale: dict[str, dict[str, str | None]] = data["values"]
    values = dict(by_locale.get("", {}))
    if locale:
        values.update({k: v for k, v in by_locale.get(locale, {}).items() if v is not None})
    return TreeNode(
        node=ContentNode(**raw),
        datatype=datatype,
        fields=attached,
        values={df.field.name: values.get(df.field.name) for df in attached},
        children=tuple(_node_from(child, datatypes, locale) for child in data["children"]),
    )


def from_snapshot(document: dict[str, Any], locale: str = "") -> RouteTree:
    """The route tree stored in a snapshot document, values in ``locale`` (fallback ``""``)."""
    root = document["root"]
    return RouteTree(
        route=Route(**document["route"]),
        root=None if root is None else _node_from(root, _datatypes_from(document), locale),
        node_count=int(document["node_count"]),
    )
