"""Content: nodes of route trees with their field values.

Every write runs in one transaction that also holds its audit row and its before-hooks;
after-hooks run once it has committed. Tree operations touch a constant number of rows
besides the moved or deleted subtree, whatever the number of siblings.

Positions: ``parent_id`` appends as the last child, ``before``/``after`` name a sibling.
Creating without any position makes the node the route's root, or — when the route has a
root already — appends it as the root's last child.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from modulacms.core.clock import now
from modulacms.core.events import HookDispatcher, HookEvent, NullDispatcher
from modulacms.core.ids import new_id
from modulacms.core.models import (
    Actor,
    ContentItem,
    ContentNode,
    ContentStatus,
    CreatedContent,
    Datatype,
    DatatypeField,
    FieldType,
    HealReport,
    Route,
    RouteTree,
    TrashEntry,
)
from modulacms.core.tree import assemble, ordered_children
from modulacms.core.validation import InvalidValue, normalise_value
from modulacms.db.connection import Database
from modulacms.db.repositories.audit import AuditRepository
from modulacms.db.repositories.content import ContentRepository, ValueRow, node_from_row, node_row
from modulacms.db.repositories.schema import datatype_from_row
from modulacms.errors import Conflict, ErrorCollector, FieldError, NotFound, ValidationFailed
from modulacms.services.heal import heal
from modulacms.services.routes import RouteService
from modulacms.services.schema import SchemaService


@dataclass(frozen=True, slots=True)
class NewContent:
    """One node to create: its datatype, values and position (at most one of
    ``parent_id``, ``before``, ``after``). ``content_id`` fixes the new id, so that later
    items of the same batch can name it (and imports can keep ids)."""

    datatype: str
    values: Mapping[str, Any]
    parent_id: str | None = None
    before: str | None = None
    after: str | None = None
    content_id: str | None = None


class ContentService:
    """Create, edit, arrange, delete and load content.

    Raises ``NotFound`` (unknown route, datatype, node), ``ValidationFailed`` (every field
    problem at once), ``Conflict`` (stale revision, cycles, trash rules) and ``Forbidden``.
    """

    def __init__(
        self,
        db: Database,
        audit: AuditRepository,
        schema: SchemaService,
        routes: RouteService,
        hooks: HookDispatcher | None = None,
    ) -> None:
        self.db = db
        self.repo = ContentRepository(db)
        self.audit = audit
        self.schema = schema
        self.routes = routes
        self.hooks: HookDispatcher = hooks or NullDispatcher()

    # reading ----------------------------------------------------------------------------

    def node(self, content_id: str) -> ContentNode:
        """A node (live or trashed); raises ``NotFound``."""
        found = self.repo.node(content_id)
        if found is None:
            raise NotFound("content", content_id)
        return found

    def item(self, content_id: str, locale: str = "") -> ContentItem:
        """A node with its datatype, fields and values (``locale`` falls back to ``""``)."""
        node = self.node(content_id)
        datatype = self.schema.datatype(node.datatype_id)
        fields = tuple(self.schema.fields_of(datatype.datatype_id))
        return ContentItem(node, datatype, fields, self._values(node, fields, locale))

    def tree(self, route: str, locale: str = "") -> RouteTree:
        """The draft tree of a route, loaded with three flat queries and assembled in memory."""
        target = self.routes.get(route)
        with self.db.bulk_read():
            rows = self.repo.route_nodes(target.route_id)
            values = self.repo.route_locale_values(target.route_id, "")
            localized = self.repo.route_locale_values(target.route_id, locale) if locale else []
        width = 17
        datatypes: dict[str, Datatype] = {}
        nodes = []
        for r in rows:
            datatype = datatypes.get(r[width])
            if datatype is None:
                datatype = datatypes[r[width]] = datatype_from_row(r[width:])
            nodes.append((node_from_row(r), datatype))
        fields = self.schema.repo.attached({d.datatype_id for _, d in nodes})
        return assemble(target, nodes, fields, values, localized)

    def trash(self) -> list[TrashEntry]:
        return self.repo.trash()

    def _values(
        self, node: ContentNode, fields: tuple[DatatypeField, ...], locale: str
    ) -> dict[str, str | None]:
        by_field: dict[str, str | None] = {}
        exact: set[str] = set()
        for row in self.repo.values(node.content_data_id):
            if row.locale == locale:
                by_field[row.field_id] = row.value
                exact.add(row.field_id)
            elif row.locale == "" and row.field_id not in exact:
                by_field[row.field_id] = row.value
        return {df.field.name: by_field.get(df.field.field_id) for df in fields}

    # creating and editing ---------------------------------------------------------------

    def create(
        self,
        route: str,
        datatype: str,
        values: Mapping[str, Any],
        actor: Actor,
        *,
        parent_id: str | None = None,
        before: str | None = None,
        after: str | None = None,
        locale: str = "",
        status: ContentStatus = ContentStatus.DRAFT,
    ) -> CreatedContent:
        """Create a node and its field values in one transaction; returns the new ids."""
        item = NewContent(datatype, values, parent_id=parent_id, before=before, after=after)
        return self.create_many(route, [item], actor, locale=locale, status=status)[0]

    def create_many(
        self,
        route: str,
        items: Sequence[NewContent],
        actor: Actor,
        *,
        locale: str = "",
        status: ContentStatus = ContentStatus.DRAFT,
        partial: bool = False,
    ) -> list[CreatedContent]:
        """Create several nodes with their values in one transaction, in order.

        Items may name nodes created earlier in the same batch (give them ``content_id``).
        Every item is validated before anything is written; field errors are reported as
        ``items[<n>].<field>`` (or just ``<field>`` for a single item). ``partial`` lets
        required fields stay empty, for callers that set values in later writes (plugins
        inserting ``content_data`` before its ``content_fields``).
        """
        actor.require("content:create")
        target = self.routes.get(route)
        plans: dict[str, tuple[Datatype, tuple[DatatypeField, ...]]] = {}
        cleaned = []
        errors = ErrorCollector()
        for index, item in enumerate(items):
            _one_position(item.parent_id, item.before, item.after, allow_none=True)
            if item.datatype not in plans:
                dt = self.schema.datatype(item.datatype)
                plans[item.datatype] = (dt, tuple(self.schema.fields_of(dt.datatype_id)))
            prefix = f"items[{index}]." if len(items) > 1 else ""
            fields = plans[item.datatype][1]
            cleaned.append(self._validate(fields, item.values, not partial, errors, prefix))
        errors.raise_if_any("invalid content")
        created = []
        with self.db.transaction():
            for item, clean in zip(items, cleaned, strict=True):
                dt, fields = plans[item.datatype]
                created.append(self._insert(target, dt, fields, item, clean, actor, locale, status))
        return created

    def _insert(
        self,
        route: Route,
        dt: Datatype,
        fields: tuple[DatatypeField, ...],
        item: NewContent,
        clean: dict[str, str | None],
        actor: Actor,
        locale: str,
        status: ContentStatus,
    ) -> CreatedContent:
        content_id = item.content_id or new_id()
        root = self.repo.route_root(route.route_id)
        parent_id, before, after = item.parent_id, item.before, item.after
        anchor = parent_id or before or after
        if anchor is None and root is not None:
            parent_id = anchor = root.content_data_id
        parent = None
        if anchor is not None:
            anchor_node = self._live_in_route(anchor, route.route_id)
            parent = anchor if parent_id else anchor_node.parent_id
            if parent is None:
                raise Conflict("a route has a single root; add the node under a parent")
        moment = now()
        node = ContentNode(
            content_data_id=content_id,
            parent_id=parent,
            first_child_id=None,
            next_sibling_id=None,
            prev_sibling_id=None,
            root_id=root.content_data_id if root else content_id,
            route_id=route.route_id,
            datatype_id=dt.datatype_id,
            author_id=actor.user_id,
            status=status,
            publish_at=None,
            published_at=None,
            published_by=None,
            revision=1,
            trashed_at=None,
            date_created=moment,
            date_modified=moment,
        )
        if parent_id is not None:
            node = self.repo.insert_last_child(node)
        else:
            self.repo.insert_node(node)
            self._link(content_id, None, before, after)
        rows = self._value_rows(content_id, fields, clean, locale)
        self.repo.insert_values(rows, route.route_id, actor.user_id, moment)
        row = node_row(node) | {"fields": _named(fields, rows)}
        self.hooks.before(HookEvent.BEFORE_CREATE, "content_data", dict(row), actor)
        self.audit.record(actor, "content_data", content_id, "create", None, row)
        self._after(HookEvent.AFTER_CREATE, row, actor)
        ids = {name: r.content_field_id for name, r in zip(_names(fields, rows), rows, strict=True)}
        return CreatedContent(content_id, ids, 1)

    def update(
        self,
        content_id: str,
        values: Mapping[str, Any],
        revision: int,
        actor: Actor,
        *,
        locale: str = "",
    ) -> ContentNode:
        """Change field values if ``revision`` is still current; returns the updated node.

        A stale revision raises ``Conflict`` (details carry the current revision) and
        writes nothing. Fields not named keep their values; ``None`` clears one.
        """
        actor.require("content:update")
        with self.db.transaction():
            old = self._live(content_id)
            if old.revision != revision:
                raise Conflict(
                    f"content {content_id} was changed by someone else (your revision "
                    f"{revision}, current {old.revision}); reload it and apply your edit again",
                    details={"current_revision": old.revision, "your_revision": revision},
                )
            fields = tuple(self.schema.fields_of(old.datatype_id))
            errors = ErrorCollector()
            clean = self._validate(fields, values, False, errors)
            errors.raise_if_any("invalid content")
            before_row = node_row(old) | {"fields": self._values(old, fields, locale)}
            self.hooks.before(HookEvent.BEFORE_UPDATE, "content_data", dict(before_row), actor)
            moment = now()
            if not self.repo.bump_revision(content_id, revision, moment):
                raise Conflict(f"content {content_id} was changed by someone else")
            for row in self._value_rows(content_id, fields, clean, locale):
                self.repo.upsert_value(row, old.route_id, actor.user_id, moment)
            new = self.node(content_id)
            new_row = node_row(new) | {"fields": self._values(new, fields, locale)}
            self.audit.record(actor, "content_data", content_id, "update", before_row, new_row)
            self._after(HookEvent.AFTER_UPDATE, before_row, actor)
        return new

    def set_status(self, content_id: str, status: ContentStatus, actor: Actor) -> ContentNode:
        """Mark a node draft or archived (publishing is per route: see PublishingService)."""
        actor.require("content:update")
        if status not in (ContentStatus.DRAFT, ContentStatus.ARCHIVED):
            raise ValidationFailed(
                "cannot change status",
                [FieldError("status", "draft or archived; publish or schedule the route instead")],
            )
        with self.db.transaction():
            old = self._live(content_id)
            before_row = node_row(old)
            self.hooks.before(HookEvent.BEFORE_UPDATE, "content_data", dict(before_row), actor)
            self.repo.set_columns(
                content_id, status=status.value, revision=old.revision + 1, date_modified=now()
            )
            new = self.node(content_id)
            self.audit.record(
                actor, "content_data", content_id, "status", before_row, node_row(new)
            )
            self._after(HookEvent.AFTER_UPDATE, before_row, actor)
        return new

    def _validate(
        self,
        fields: tuple[DatatypeField, ...],
        values: Mapping[str, Any],
        creating: bool,
        errors: ErrorCollector,
        prefix: str = "",
    ) -> dict[str, str | None]:
        by_name = {df.field.name: df for df in fields}
        clean: dict[str, str | None] = {}
        for name in values:
            if name not in by_name:
                errors.add(
                    name, f"not a field of this datatype (fields: {', '.join(by_name) or 'none'})"
                )
        for name, df in by_name.items():
            if name not in values:
                if creating and df.required:
                    errors.add(prefix + name, "required")
                continue
            try:
                stored = normalise_value(df.field.type, df.field.validation, values[name])
            except InvalidValue as exc:
                errors.add(prefix + name, str(exc))
                continue
            if stored is None and df.required:
                errors.add(prefix + name, "required")
                continue
            problem = self._check_target(df, stored)
            if problem:
                errors.add(prefix + name, problem)
                continue
            clean[name] = stored
        return clean

    def _check_target(self, df: DatatypeField, stored: str | None) -> str | None:
        if stored is None:
            return None
        if df.field.type is FieldType.MEDIA and not self.repo.media_exists(stored):
            return f"no media with id {stored}"
        if df.field.type is FieldType.REFERENCE:
            target = self.repo.node(stored)
            if target is None or target.trashed_at is not None:
                return f"no content with id {stored}"
            wanted = df.field.validation.get("target")
            if wanted and self.schema.datatype(target.datatype_id).name != wanted:
                return f"must reference a {wanted}"
        return None

    def _value_rows(
        self,
        content_id: str,
        fields: tuple[DatatypeField, ...],
        clean: dict[str, str | None],
        locale: str,
    ) -> list[ValueRow]:
        rows = []
        for df in fields:
            if df.field.name in clean:
                row_locale = locale if df.field.translatable else ""
                rows.append(
                    ValueRow(
                        new_id(), content_id, df.field.field_id, row_locale, clean[df.field.name]
                    )
                )
        return rows

    # arranging --------------------------------------------------------------------------

    def move(
        self,
        content_id: str,
        actor: Actor,
        *,
        parent_id: str | None = None,
        before: str | None = None,
        after: str | None = None,
    ) -> ContentNode:
        """Move a node and its subtree to a new place (possibly in another route)."""
        actor.require("content:update")
        _one_position(parent_id, before, after, allow_none=False)
        with self.db.transaction():
            node = self._live(content_id)
            anchor = self._live(parent_id or before or after or "")
            target_parent = anchor.content_data_id if parent_id else anchor.parent_id
            if target_parent is None:
                raise Conflict("a route has a single root; move the node under a parent instead")
            if content_id == anchor.content_data_id or content_id in (
                target_parent,
                *self.repo.ancestor_ids(target_parent),
            ):
                raise Conflict("cannot move a node into its own subtree")
            before_row = node_row(node)
            self.hooks.before(HookEvent.BEFORE_UPDATE, "content_data", dict(before_row), actor)
            self.repo.unlink(content_id)
            self._link(content_id, parent_id, before, after)
            if anchor.route_id != node.route_id:
                ids = self.repo.subtree_ids(content_id)
                self.repo.move_to_route(ids, anchor.route_id, anchor.root_id)
            self.repo.set_columns(content_id, revision=node.revision + 1, date_modified=now())
            new = self.node(content_id)
            self.audit.record(actor, "content_data", content_id, "move", before_row, node_row(new))
            self._after(HookEvent.AFTER_UPDATE, before_row, actor)
        return new

    def reorder(self, parent_id: str, ordered_ids: list[str], actor: Actor) -> None:
        """Put every child of ``parent_id`` in the given order."""
        actor.require("content:update")
        with self.db.transaction():
            self._live(parent_id)
            current = self.repo.children_ids(parent_id)
            if sorted(current) != sorted(ordered_ids) or len(set(ordered_ids)) != len(ordered_ids):
                raise ValidationFailed(
                    "cannot reorder",
                    [FieldError("order", "name every child of the parent exactly once")],
                )
            old_order = [c.content_data_id for c in self._children_in_order(parent_id)]
            self.repo.relink_children(parent_id, ordered_ids)
            self.audit.record(
                actor,
                "content_data",
                parent_id,
                "reorder",
                {"order": old_order},
                {"order": ordered_ids},
            )

    def children(self, parent_id: str) -> list[ContentNode]:
        """The live children of a node in sibling order."""
        self.node(parent_id)
        return self._children_in_order(parent_id)

    def _children_in_order(self, parent_id: str) -> list[ContentNode]:
        parent = self.node(parent_id)
        return ordered_children(parent, self.repo.children(parent_id))

    def _link(
        self, content_id: str, parent_id: str | None, before: str | None, after: str | None
    ) -> None:
        if parent_id is not None:
            self.repo.link_last_child(content_id, parent_id)
        elif before is not None:
            self.repo.link_before(content_id, before)
        elif after is not None:
            self.repo.link_after(content_id, after)

    # deleting ---------------------------------------------------------------------------

    def delete(self, content_id: str, actor: Actor) -> int:
        """Move a node and its subtree to the trash; returns how many nodes went."""
        actor.require("content:delete")
        with self.db.transaction():
            node = self._live(content_id)
            row = node_row(node)
            self.hooks.before(HookEvent.BEFORE_DELETE, "content_data", dict(row), actor)
            ids = self.repo.subtree_ids(content_id)
            self.repo.unlink(content_id)
            self.repo.set_trashed(ids, now())
            self.repo.set_columns(content_id, trash_root=1)
            self.audit.record(
                actor, "content_data", content_id, "delete", row, {"trashed": len(ids)}
            )
            self._after(HookEvent.AFTER_DELETE, row, actor)
        return len(ids)

    def restore(self, content_id: str, actor: Actor) -> ContentNode:
        """Bring a trashed subtree back as the last child of its old parent."""
        actor.require("content:delete")
        with self.db.transaction():
            node = self._trash_root(content_id)
            if node.parent_id is not None:
                parent = self.node(node.parent_id)
                if parent.trashed_at is not None:
                    raise Conflict("its parent is in the trash too; restore the parent first")
            elif self.repo.route_root(node.route_id) is not None:
                raise Conflict("the route has a new root; move that root away before restoring")
            ids = self.repo.subtree_ids(content_id, trashed=True)
            self.repo.set_trashed(ids, None)
            self.repo.set_columns(content_id, trash_root=0)
            if node.parent_id is not None:
                self.repo.link_last_child(content_id, node.parent_id)
            self.audit.record(
                actor, "content_data", content_id, "restore", None, {"restored": len(ids)}
            )
            return self.node(content_id)

    def purge(self, content_id: str, actor: Actor) -> int:
        """Delete a trashed subtree for good; returns how many nodes were removed."""
        actor.require("content:delete")
        with self.db.transaction():
            node = self._trash_root(content_id)
            count = len(self.repo.subtree_ids(content_id, trashed=True))
            self.repo.delete_node(content_id)
            self.audit.record(actor, "content_data", content_id, "purge", node_row(node), None)
        return count

    def heal(self, actor: Actor, route: str | None = None, *, repair: bool = False) -> HealReport:
        """Check pointer chains (of one route or all); with ``repair``, fix them."""
        actor.require("content:update" if repair else "content:read")
        route_id = None if route is None else self.routes.get(route).route_id
        report = heal(self.db, route_id, repair=repair)
        if report.repaired:
            with self.db.transaction():
                self.audit.record(
                    actor,
                    "content_data",
                    route_id or "*",
                    "heal",
                    None,
                    {"problems": list(report.problems)},
                )
        return report

    # helpers ----------------------------------------------------------------------------

    def _live(self, content_id: str) -> ContentNode:
        node = self.node(content_id)
        if node.trashed_at is not None:
            raise Conflict(f"content {content_id} is in the trash; restore it first")
        return node

    def _live_in_route(self, content_id: str, route_id: str) -> ContentNode:
        node = self._live(content_id)
        if node.route_id != route_id:
            raise Conflict(f"content {content_id} belongs to another route")
        return node

    def _trash_root(self, content_id: str) -> ContentNode:
        node = self.node(content_id)
        if not self.repo.is_trash_root(content_id):
            raise Conflict(f"content {content_id} is not a deleted subtree in the trash")
        return node

    def _after(self, event: HookEvent, row: dict[str, Any], actor: Actor) -> None:
        hooks = self.hooks
        self.db.after_commit(lambda: hooks.after(event, "content_data", dict(row), actor))


def _one_position(
    parent_id: str | None, before: str | None, after: str | None, *, allow_none: bool
) -> None:
    given = [p for p in (parent_id, before, after) if p is not None]
    if len(given) > 1 or (not given and not allow_none):
        raise ValidationFailed(
            "invalid position",
            [FieldError("position", "give exactly one of parent, before, after")],
        )


def _names(fields: tuple[DatatypeField, ...], rows: list[ValueRow]) -> list[str]:
    name_of = {df.field.field_id: df.field.name for df in fields}
    return [name_of[r.field_id] for r in rows]


def _named(fields: tuple[DatatypeField, ...], rows: list[ValueRow]) -> dict[str, str | None]:
    return dict(zip(_names(fields, rows), (r.value for r in rows), strict=True))
