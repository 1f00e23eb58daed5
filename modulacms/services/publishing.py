"""Publishing: freezing route trees into numbered snapshots that delivery serves.

Publishing a route snapshots its whole draft tree into ``content_versions`` (keeping the
newest N, never the one being served), points the route at it and rebuilds the route's
rows of the published index used by ``/api/v1/query``. Public delivery reads only
snapshots, so a half-edited page is never visible. Restoring a version copies it back into
the draft tree; the draft it replaces is kept as an ``autosave`` version first, so
nothing an editor wrote is lost.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from modulacms.core.clock import format_ts, now, parse_ts
from modulacms.core.events import HookEvent
from modulacms.core.ids import new_id
from modulacms.core.models import (
    Actor,
    ContentNode,
    ContentStatus,
    ContentVersion,
    Route,
    RouteTree,
    TreeNode,
)
from modulacms.core.snapshot import from_snapshot, to_snapshot
from modulacms.core.validation import numeric_value
from modulacms.db.connection import Database
from modulacms.db.repositories.audit import AuditRepository
from modulacms.db.repositories.content import ValueRow, node_row
from modulacms.db.repositories.routes import route_row
from modulacms.db.repositories.versions import PublishedValue, VersionRepository
from modulacms.errors import Conflict, FieldError, NotFound, ValidationFailed
from modulacms.services.content import ContentService

DEFAULT_VERSIONS_KEPT = 50


class PublishingService:
    """Publish, unpublish, schedule, list versions, restore and read published snapshots."""

    def __init__(
        self,
        db: Database,
        audit: AuditRepository,
        content: ContentService,
        *,
        versions_kept: int = DEFAULT_VERSIONS_KEPT,
    ) -> None:
        self.db = db
        self.audit = audit
        self.content = content
        self.repo = VersionRepository(db)
        self.versions_kept = versions_kept

    # publishing -------------------------------------------------------------------------

    def publish(self, route: str, actor: Actor, *, note: str = "") -> ContentVersion:
        """Snapshot the route's draft tree and serve it; returns the new version."""
        actor.require("content:publish")
        with self.db.transaction():
            target = self.content.routes.get(route)
            return self._publish(target, actor, note)

    def _publish(self, route: Route, actor: Actor, note: str) -> ContentVersion:
        tree = self.content.tree(route.route_id)
        if tree.root is None:
            raise Conflict(f"route {route.slug} has no content to publish")
        root_row = node_row(tree.root.node)
        self.content.hooks.before(HookEvent.BEFORE_PUBLISH, "content_data", dict(root_row), actor)
        moment = now()
        self.content.repo.set_status_for_route(
            route.route_id, ContentStatus.PUBLISHED, moment, actor.user_id
        )
        tree = replace(tree, root=_published(tree.root, moment, actor.user_id))
        number = self.repo.next_number(route.route_id)
        version = ContentVersion(
            new_id(),
            route.route_id,
            number,
            "published",
            tree.node_count,
            note,
            actor.user_id,
            moment,
        )
        published_route = replace(
            route, published_version_id=version.version_id, date_modified=moment
        )
        tree = replace(tree, route=published_route)
        document = to_snapshot(tree, number, moment, self._locales(route.route_id))
        self.repo.insert(version, json.dumps(document, separators=(",", ":"), ensure_ascii=False))
        self.content.routes.repo.update_route(published_route)
        self._index(tree)
        self.repo.prune(route.route_id, self.versions_kept, protect=version.version_id)
        self.audit.record(
            actor, "routes", route.route_id, "publish", route_row(route), route_row(published_route)
        )
        hooks = self.content.hooks
        self.db.after_commit(
            lambda: hooks.after(HookEvent.AFTER_PUBLISH, "content_data", dict(root_row), actor)
        )
        return version

    def _locales(self, route_id: str) -> dict[str, dict[str, dict[str, str | None]]]:
        """Every stored value of the route by node and locale, for the snapshot."""
        names = {
            df.field.field_id: df.field.name
            for attached in self.content.schema.repo.attached(
                {n.datatype_id for n in self.content.repo.all_nodes(route_id)}
            ).values()
            for df in attached
        }
        result: dict[str, dict[str, dict[str, str | None]]] = {}
        for content_id, field_id, locale, value in self.content.repo.route_values(route_id):
            if field_id in names:
                result.setdefault(content_id, {}).setdefault(locale, {})[names[field_id]] = value
        return result

    def _index(self, tree: RouteTree) -> None:
        nodes, values = published_index_rows(tree)
        self.repo.index_published(tree.route.route_id, nodes, values)

    def unpublish(self, route: str, actor: Actor) -> Route:
        """Stop serving a route; its versions are kept."""
        actor.require("content:publish")
        with self.db.transaction():
            old = self.content.routes.get(route)
            if old.published_version_id is None:
                raise Conflict(f"route {old.slug} is not published")
            new = replace(old, published_version_id=None, date_modified=now())
            self.content.routes.repo.update_route(new)
            self.content.repo.set_status_for_route(old.route_id, ContentStatus.DRAFT, None, None)
            self.repo.clear_published(old.route_id)
            self.audit.record(
                actor, "routes", old.route_id, "unpublish", route_row(old), route_row(new)
            )
        return new

    def schedule(self, route: str, at: str, actor: Actor) -> ContentNode:
        """Publish the route at ``at`` (RFC 3339); ``publish_due`` carries it out."""
        actor.require("content:publish")
        try:
            moment = format_ts(parse_ts(at))
        except ValueError:
            raise ValidationFailed(
                "cannot schedule",
                [FieldError("publish_at", "expected a time like 2026-01-31T09:00:00Z")],
            ) from None
        if moment <= now():
            raise ValidationFailed(
                "cannot schedule", [FieldError("publish_at", "must be in the future")]
            )
        with self.db.transaction():
            target = self.content.routes.get(route)
            root = self.content.repo.route_root(target.route_id)
            if root is None:
                raise Conflict(f"route {target.slug} has no content to schedule")
            self.content.repo.set_columns(
                root.content_data_id, status=ContentStatus.SCHEDULED.value, publish_at=moment
            )
            self.audit.record(
                actor, "routes", target.route_id, "schedule", None, {"publish_at": moment}
            )
            return self.content.node(root.content_data_id)

    def publish_due(self, moment: str | None = None) -> list[ContentVersion]:
        """Publish every route whose scheduled time has come (called by the server's scheduler)."""
        published = []
        for root in self.content.repo.scheduled_due(moment or now()):
            with self.db.transaction():
                current = self.content.repo.node(root.content_data_id)
                if current is None or current.status is not ContentStatus.SCHEDULED:
                    continue  # another worker got there first
                route = self.content.routes.get(current.route_id)
                published.append(self._publish(route, Actor.system("scheduler"), "scheduled"))
        return published

    # versions ---------------------------------------------------------------------------

    def versions(self, route: str) -> list[ContentVersion]:
        return self.repo.versions(self.content.routes.get(route).route_id)

    def snapshot(self, route: str, version: int | None = None, locale: str = "") -> RouteTree:
        """A version's tree; without ``version``, the one being served (``NotFound`` if none)."""
        target = self.content.routes.get(route)
        if version is None:
            if target.published_version_id is None:
                raise NotFound(
                    "published route", target.slug, f"route {target.slug} is not published"
                )
            record = self.repo.version_by_id(target.published_version_id)
        else:
            record = self.repo.version(target.route_id, version)
        if record is None:
            raise NotFound("version", version)
        text = self.repo.snapshot(record.version_id)
        assert text is not None
        return from_snapshot(json.loads(text), locale)

    def restore(self, route: str, version: int, actor: Actor) -> RouteTree:
        """Replace the draft tree with a version; the replaced draft is kept as an autosave."""
        actor.require("content:update")
        with self.db.transaction():
            target = self.content.routes.get(route)
            record = self.repo.version(target.route_id, version)
            if record is None:
                raise NotFound("version", version, f"route {target.slug} has no version {version}")
            text = self.repo.snapshot(record.version_id)
            assert text is not None
            draft = self.content.tree(target.route_id)
            if draft.root is not None:
                self._autosave(draft, actor, f"draft before restoring version {version}")
            self._replace_draft(target, json.loads(text), actor)
            self.audit.record(
                actor, "routes", target.route_id, "restore", None, {"version": version}
            )
            return self.content.tree(target.route_id)

    def rollback(self, route: str, version: int, actor: Actor) -> ContentVersion:
        """Restore a version and publish it at once."""
        actor.require("content:publish")
        with self.db.transaction():
            self.restore(route, version, actor)
            return self.publish(route, actor, note=f"rollback to version {version}")

    def _autosave(self, draft: RouteTree, actor: Actor, note: str) -> None:
        number = self.repo.next_number(draft.route.route_id)
        moment = now()
        version = ContentVersion(
            new_id(),
            draft.route.route_id,
            number,
            "autosave",
            draft.node_count,
            note,
            actor.user_id,
            moment,
        )
        document = to_snapshot(draft, number, moment, self._locales(draft.route.route_id))
        self.repo.insert(version, json.dumps(document, separators=(",", ":"), ensure_ascii=False))

    def _replace_draft(self, route: Route, document: dict[str, Any], actor: Actor) -> None:
        repo = self.content.repo
        # trashed subtrees hang off live parents; keep them out of the cascade below and
        # hang them back wherever their parent exists again afterwards
        parked = repo.trash_roots_of_route(route.route_id)
        for trashed_id, _ in parked:
            repo.set_columns(trashed_id, parent_id=None)
        root = repo.route_root(route.route_id)
        if root is not None:
            repo.delete_node(root.content_data_id)
        self._insert_snapshot(route, document, actor)
        for trashed_id, parent_id in parked:
            if parent_id is not None and repo.node(parent_id) is not None:
                repo.set_columns(trashed_id, parent_id=parent_id)

    def _insert_snapshot(self, route: Route, document: dict[str, Any], actor: Actor) -> None:
        repo = self.content.repo
        known_fields = {f.field_id for f in self.content.schema.fields()}
        snapshot_root = document["root"]
        if snapshot_root is None:
            return
        # ids from the snapshot may still sit in the trash; those copies give way
        stack: list[dict[str, Any]] = [snapshot_root]
        moment = now()
        while stack:
            item = stack.pop()
            raw = dict(item["node"])
            existing = repo.node(raw["content_data_id"])
            if existing is not None:
                repo.delete_node(existing.content_data_id)
            node = ContentNode(
                **(
                    raw
                    | {
                        "status": ContentStatus.DRAFT,
                        "route_id": route.route_id,
                        "root_id": snapshot_root["node"]["content_data_id"],
                        "trashed_at": None,
                        "publish_at": None,
                        "date_modified": moment,
                    }
                )
            )
            repo.insert_node(node)
            fields = document["datatypes"][raw["datatype_id"]]["fields"]
            names = {f["field"]["name"]: f["field"]["field_id"] for f in fields}
            rows = [
                ValueRow(new_id(), node.content_data_id, names[name], locale, value)
                for locale, values in item["values"].items()
                for name, value in values.items()
                if name in names and names[name] in known_fields
            ]
            repo.insert_values(rows, route.route_id, actor.user_id, moment)
            stack.extend(item["children"])


def published_index_rows(
    tree: RouteTree,
) -> tuple[list[tuple[str, str, str, str, str]], list[PublishedValue]]:
    """The rows of the published index (what ``/api/v1/query`` filters) for a served tree:
    one per node and one per value of each node's fields."""
    nodes, values = [], []
    if tree.root is not None:
        for item in tree.root.walk():
            node = item.node
            nodes.append(
                (
                    node.content_data_id,
                    node.datatype_id,
                    node.published_at or node.date_modified,
                    node.date_created,
                    node.date_modified,
                )
            )
            for df in item.fields:
                stored = item.values.get(df.field.name)
                values.append(
                    PublishedValue(
                        node.content_data_id,
                        df.field.field_id,
                        "",
                        stored,
                        numeric_value(df.field.type, stored),
                        node.datatype_id,
                    )
                )
    return nodes, values


def _published(item: TreeNode, moment: str, by: str | None) -> TreeNode:
    """The tree as ``set_status_for_route`` just stored it, without loading it again."""
    node = replace(
        item.node,
        status=ContentStatus.PUBLISHED,
        published_at=moment,
        published_by=by,
        publish_at=None,
    )
    children = tuple(_published(child, moment, by) for child in item.children)
    return replace(item, node=node, children=children)
