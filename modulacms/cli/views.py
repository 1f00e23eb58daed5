"""The JSON shapes the CLI prints with ``--json``: explicit, so that they stay stable
when models grow (documented in docs/cli.md)."""

from __future__ import annotations

from typing import Any

from modulacms.core.models import (
    ContentItem,
    ContentNode,
    ContentVersion,
    Datatype,
    DatatypeField,
    Field,
    Route,
    RouteTree,
    TrashEntry,
    TreeNode,
)
from modulacms.core.validation import typed_value

TITLE_FIELDS = ("title", "heading", "name", "label")


def route_json(route: Route) -> dict[str, Any]:
    return {
        "id": route.route_id,
        "slug": route.slug,
        "title": route.title,
        "site_id": route.site_id,
        "published": route.is_published,
        "published_version_id": route.published_version_id,
        "date_created": route.date_created,
        "date_modified": route.date_modified,
    }


def field_json(field: Field) -> dict[str, Any]:
    return {
        "id": field.field_id,
        "name": field.name,
        "label": field.label,
        "type": field.type.value,
        "validation": field.validation,
        "ui_config": field.ui_config,
        "translatable": field.translatable,
        "date_created": field.date_created,
        "date_modified": field.date_modified,
    }


def attached_json(attached: DatatypeField) -> dict[str, Any]:
    return {
        "name": attached.field.name,
        "type": attached.field.type.value,
        "label": attached.field.label,
        "required": attached.required,
        "sort_order": attached.sort_order,
        "field_id": attached.field.field_id,
    }


def datatype_json(datatype: Datatype, fields: list[DatatypeField] | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": datatype.datatype_id,
        "name": datatype.name,
        "label": datatype.label,
        "description": datatype.description,
        "date_created": datatype.date_created,
        "date_modified": datatype.date_modified,
    }
    if fields is not None:
        data["fields"] = [attached_json(f) for f in fields]
    return data


def node_json(node: ContentNode) -> dict[str, Any]:
    return {
        "id": node.content_data_id,
        "route_id": node.route_id,
        "parent_id": node.parent_id,
        "datatype_id": node.datatype_id,
        "status": node.status.value,
        "revision": node.revision,
        "publish_at": node.publish_at,
        "published_at": node.published_at,
        "trashed_at": node.trashed_at,
        "date_created": node.date_created,
        "date_modified": node.date_modified,
    }


def _values(fields: tuple[DatatypeField, ...], values: dict[str, str | None]) -> dict[str, Any]:
    return {df.field.name: typed_value(df.field.type, values.get(df.field.name)) for df in fields}


def item_json(item: ContentItem) -> dict[str, Any]:
    return node_json(item.node) | {
        "datatype": item.datatype.name,
        "fields": _values(item.fields, item.values),
    }


def tree_node_json(tree_node: TreeNode) -> dict[str, Any]:
    return node_json(tree_node.node) | {
        "datatype": tree_node.datatype.name,
        "fields": _values(tree_node.fields, tree_node.values),
        "children": [tree_node_json(child) for child in tree_node.children],
    }


def tree_json(tree: RouteTree) -> dict[str, Any]:
    return {
        "route": route_json(tree.route),
        "node_count": tree.node_count,
        "root": None if tree.root is None else tree_node_json(tree.root),
    }


def version_json(version: ContentVersion) -> dict[str, Any]:
    return {
        "id": version.version_id,
        "route_id": version.route_id,
        "version": version.version,
        "kind": version.kind,
        "node_count": version.node_count,
        "note": version.note,
        "published_by": version.published_by,
        "date_created": version.date_created,
    }


def trash_json(entry: TrashEntry) -> dict[str, Any]:
    return {
        "id": entry.content_data_id,
        "route_id": entry.route_id,
        "parent_id": entry.parent_id,
        "datatype_id": entry.datatype_id,
        "node_count": entry.node_count,
        "trashed_at": entry.trashed_at,
    }


def title_of(fields: tuple[DatatypeField, ...], values: dict[str, str | None]) -> str:
    """The value that best names a node: a title-like field, else the first text value."""
    for name in TITLE_FIELDS:
        if values.get(name):
            return str(values[name])
    for df in fields:
        value = values.get(df.field.name)
        if value and df.field.type.value in ("text", "textarea", "richtext", "slug", "email"):
            return value
    return ""
