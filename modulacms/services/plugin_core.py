"""Plugin writes to core tables (the Lua ``core.insert/update/delete`` of spec §5).

The plugin runtime checks the three access gates, resolves a ``where`` to the matching rows
(at most 100) and calls this service, which carries each write out through the content and
media services: values are validated, tree pointers stay consistent, audit rows name the
plugin, and hooks fire. Mapping of the original's columns onto ours:

=================  ===================================================================
table              what a plugin may write
=================  ===================================================================
content_data       insert: ``route_id`` and ``datatype_id`` (required), ``parent_id``
                   (append as last child), ``content_data_id``, ``status`` (draft);
                   update: ``parent_id`` (move), ``status`` (draft or archived);
                   delete: moves the subtree to the trash. Sibling pointers,
                   ``root_id``, revisions and dates are the CMS's own.
content_fields     insert / update ``field_value`` of (``content_data_id``, ``field_id``,
                   optional ``locale``), validated against the field's type; delete
                   clears the value.
media              update ``name`` and ``alt``; delete an unused file. Files are added
                   through the media service, not by inserting rows.
=================  ===================================================================

Every refusal is a ``ValidationFailed`` or ``QueryRejected`` naming the column.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from modulacms.core.models import Actor, ContentStatus
from modulacms.errors import Conflict, FieldError, NotFound, QueryRejected, ValidationFailed
from modulacms.services.content import ContentService, NewContent
from modulacms.services.media import MediaService

MAX_ROWS = 100
_INSERT_COLUMNS = {
    "content_data": {"content_data_id", "route_id", "datatype_id", "parent_id", "status"},
    "content_fields": {"content_data_id", "field_id", "field_value", "locale"},
}
_UPDATE_COLUMNS = {
    "content_data": {"parent_id", "status"},
    "content_fields": {"field_value"},
    "media": {"name", "alt"},
}
_KEYS = {
    "content_data": ("content_data_id",),
    "content_fields": ("content_field_id", "content_data_id", "field_id", "locale"),
    "media": ("media_id",),
}


def _refuse_columns(table: str, given: Mapping[str, Any], allowed: set[str], op: str) -> None:
    extra = sorted(set(given) - allowed)
    if extra:
        raise QueryRejected(
            f"core.{op}: column(s) {', '.join(extra)} of {table} cannot be written by plugins "
            f"(writable: {', '.join(sorted(allowed)) or 'none'})"
        )


class PluginCoreService:
    """Core-table writes on behalf of a plugin, through the services."""

    def __init__(self, content: ContentService, media: MediaService) -> None:
        self.content = content
        self.media = media

    def key_columns(self, table: str) -> tuple[str, ...]:
        """The columns the runtime must select for each matched row of ``table``."""
        if table not in _KEYS:
            raise QueryRejected(f"core: table {table} cannot be written by plugins")
        return _KEYS[table]

    def insert(self, plugin: str, table: str, values: Mapping[str, Any]) -> str:
        """Insert one row; returns the id of what was created or changed."""
        actor = Actor.plugin(plugin)
        if table == "content_data":
            _refuse_columns(table, values, _INSERT_COLUMNS[table], "insert")
            return self._insert_node(actor, values)
        if table == "content_fields":
            _refuse_columns(table, values, _INSERT_COLUMNS[table], "insert")
            return self._set_value(actor, values, values.get("field_value"), inserting=True)
        if table == "media":
            raise QueryRejected(
                "core.insert: media files are added through the media service, not by rows"
            )
        raise QueryRejected(f"core.insert: table {table} cannot be written by plugins")

    def update(
        self,
        plugin: str,
        table: str,
        set_values: Mapping[str, Any],
        rows: Sequence[Mapping[str, Any]],
    ) -> int:
        """Apply ``set_values`` to each matched row; returns how many rows changed."""
        actor = Actor.plugin(plugin)
        _refuse_columns(table, set_values, _UPDATE_COLUMNS.get(table, set()), "update")
        self._check_count("update", rows)
        for row in rows:
            if table == "content_data":
                self._update_node(actor, str(row["content_data_id"]), set_values)
            elif table == "content_fields":
                self._set_value(actor, row, set_values.get("field_value"), inserting=False)
            else:
                self.media.update(
                    str(row["media_id"]),
                    actor,
                    name=set_values.get("name"),
                    alt=set_values.get("alt"),
                )
        return len(rows)

    def delete(self, plugin: str, table: str, rows: Sequence[Mapping[str, Any]]) -> int:
        """Delete each matched row (content goes to the trash); returns the count."""
        actor = Actor.plugin(plugin)
        self.key_columns(table)
        self._check_count("delete", rows)
        for row in rows:
            if table == "content_data":
                node = self.content.node(str(row["content_data_id"]))
                if node.trashed_at is None:
                    self.content.delete(node.content_data_id, actor)
            elif table == "content_fields":
                self._set_value(actor, row, None, inserting=False)
            else:
                self.media.delete(str(row["media_id"]), actor)
        return len(rows)

    # helpers ----------------------------------------------------------------------------

    @staticmethod
    def _check_count(op: str, rows: Sequence[Mapping[str, Any]]) -> None:
        if len(rows) > MAX_ROWS:
            raise QueryRejected(
                f"core.{op}: would affect {len(rows)} rows, exceeding safety limit of {MAX_ROWS}"
            )

    def _insert_node(self, actor: Actor, values: Mapping[str, Any]) -> str:
        missing = [c for c in ("route_id", "datatype_id") if not values.get(c)]
        if missing:
            raise ValidationFailed(
                "core.insert: content_data needs route_id and datatype_id",
                [FieldError(c, "required") for c in missing],
            )
        status = values.get("status") or ContentStatus.DRAFT.value
        if status != ContentStatus.DRAFT.value:
            raise ValidationFailed(
                "core.insert", [FieldError("status", "new content starts as a draft")]
            )
        item = NewContent(
            datatype=str(values["datatype_id"]),
            values={},
            parent_id=None if values.get("parent_id") is None else str(values["parent_id"]),
            content_id=None
            if values.get("content_data_id") is None
            else str(values["content_data_id"]),
        )
        created = self.content.create_many(str(values["route_id"]), [item], actor, partial=True)
        return created[0].content_data_id

    def _update_node(self, actor: Actor, content_id: str, set_values: Mapping[str, Any]) -> None:
        if "parent_id" in set_values:
            parent = set_values["parent_id"]
            if parent is None:
                raise ValidationFailed("core.update", [FieldError("parent_id", "cannot be null")])
            self.content.move(content_id, actor, parent_id=str(parent))
        if "status" in set_values:
            status = set_values["status"]
            if status not in (ContentStatus.DRAFT.value, ContentStatus.ARCHIVED.value):
                raise ValidationFailed(
                    "core.update",
                    [FieldError("status", "plugins may set draft or archived; publish the route")],
                )
            self.content.set_status(content_id, ContentStatus(status), actor)

    def _set_value(
        self, actor: Actor, row: Mapping[str, Any], value: Any, *, inserting: bool
    ) -> str:
        content_id = row.get("content_data_id")
        field_id = row.get("field_id")
        if not content_id or not field_id:
            raise ValidationFailed(
                "core: content_fields rows are named by content_data_id and field_id",
                [
                    FieldError(c, "required")
                    for c in ("content_data_id", "field_id")
                    if not row.get(c)
                ],
            )
        locale = str(row.get("locale") or "")
        item = self.content.item(str(content_id), locale)
        field = next((df.field for df in item.fields if df.field.field_id == field_id), None)
        if field is None:
            raise NotFound(
                "field", field_id, f"field {field_id} is not attached to this content's datatype"
            )
        if inserting and item.values.get(field.name) is not None:
            raise Conflict(f"content {content_id} already has a value for {field.name}; update it")
        self.content.update(
            str(content_id), {field.name: value}, item.node.revision, actor, locale=locale
        )
        return str(content_id)
