"""Importing an export: the id map, the schema merge, and one route at a time.

Every write goes through the repositories inside the transaction the caller holds, with an
audit row per created field, datatype and route.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

from modulacms.core.clock import now
from modulacms.core.ids import new_id
from modulacms.core.models import (
    Actor,
    ContentNode,
    ContentStatus,
    ContentVersion,
    Datatype,
    Field,
    FieldType,
    Route,
)
from modulacms.core.snapshot import from_snapshot
from modulacms.core.validation import (
    InvalidValue,
    check_name,
    check_rules,
    normalise_slug,
    normalise_value,
)
from modulacms.db.repositories.audit import AuditRepository
from modulacms.db.repositories.content import ContentRepository, ValueRow
from modulacms.db.repositories.routes import RouteRepository
from modulacms.db.repositories.schema import SchemaRepository
from modulacms.db.repositories.versions import VersionRepository
from modulacms.errors import BadRequest, Conflict
from modulacms.services.publishing import published_index_rows
from modulacms.services.transfer.document import field_doc, require


@dataclass(frozen=True, slots=True)
class Repositories:
    """The repositories an import writes through."""

    content: ContentRepository
    routes: RouteRepository
    schema: SchemaRepository
    versions: VersionRepository
    audit: AuditRepository


_ID_TOKEN = re.compile(r'"([0-9A-Za-z]{26})"')


def _remap_text(text: str, changed: dict[str, str]) -> str:
    """JSON ``text`` with every quoted id in ``changed`` replaced (keys included)."""
    if not changed:
        return text
    return _ID_TOKEN.sub(lambda m: f'"{changed.get(m.group(1), m.group(1))}"', text)


class Importer:
    """The state of one import: the id map and what has been created so far."""

    def __init__(self, repos: Repositories, actor: Actor, new_ids: bool) -> None:
        self.t = repos
        self.actor = actor
        self.new_ids = new_ids
        self.ids: dict[str, str] = {}
        self.changed: dict[str, str] = {}  # the entries of ``ids`` that differ
        self.site_id = ""
        self.fields: dict[str, Field] = {}  # target field id -> field
        self.nodes = 0
        self.published = 0
        self.datatypes_created = 0
        self.fields_created = 0

    def _map(self, old: str, new: str) -> str:
        self.ids[old] = new
        if old != new:
            self.changed[old] = new
        return new

    def _id(self, old: str, taken: bool, what: str) -> str:
        if self.new_ids:
            return self._map(old, new_id())
        if taken:
            raise Conflict(f"{what} {old} already exists in this project; import with new ids")
        return self._map(old, old)

    # schema ------------------------------------------------------------------------------

    def schema(self, fields: list[Any], datatypes: list[Any]) -> None:
        for index, raw in enumerate(fields):
            self._field(raw, f"fields[{index}]")
        for index, raw in enumerate(datatypes):
            self._datatype(raw, f"datatypes[{index}]")

    def _field(self, raw: Any, where: str) -> None:
        try:
            field = Field(**(raw | {"type": FieldType(raw["type"])}))
        except (TypeError, KeyError, ValueError) as exc:
            raise BadRequest(f"not a valid ModulaCMS export: {where}: {exc}") from None
        problems = [p for p in (check_name(field.name),) if p]
        problems += check_rules(field.type, field.validation)
        require(not problems, f"{where} ({field.name})", "; ".join(problems))
        existing = self.t.schema.field_by_name(field.name)
        if existing is not None:
            if existing.type is not field.type:
                raise Conflict(
                    f"field {field.name} exists here as {existing.type.value}, the export "
                    f"has it as {field.type.value}; rename one of them first"
                )
            self._map(field.field_id, existing.field_id)
            self.fields[existing.field_id] = existing
            return
        taken = self.t.schema.field(field.field_id) is not None
        stored = Field(**(asdict(field) | {"field_id": self._id(field.field_id, taken, "field")}))
        self.t.schema.insert_field(stored)
        self.t.audit.record(
            self.actor, "fields", stored.field_id, "import", None, field_doc(stored)
        )
        self.fields[stored.field_id] = stored
        self.fields_created += 1

    def _datatype(self, raw: Any, where: str) -> None:
        try:
            attached = list(raw["fields"])
            datatype = Datatype(**{k: v for k, v in raw.items() if k != "fields"})
        except (TypeError, KeyError) as exc:
            raise BadRequest(f"not a valid ModulaCMS export: {where}: {exc}") from None
        problem = check_name(datatype.name)
        require(problem is None, f"{where} ({datatype.name})", str(problem))
        existing = self.t.schema.datatype_by_name(datatype.name)
        if existing is not None:
            target = self._map(datatype.datatype_id, existing.datatype_id)
        else:
            taken = self.t.schema.datatype(datatype.datatype_id) is not None
            target = self._id(datatype.datatype_id, taken, "datatype")
            stored = Datatype(**(asdict(datatype) | {"datatype_id": target}))
            self.t.schema.insert_datatype(stored)
            self.t.audit.record(self.actor, "datatypes", target, "import", None, asdict(stored))
            self.datatypes_created += 1
        present = {df.field.field_id for df in self.t.schema.attached([target])[target]}
        require(all(isinstance(a, dict) for a in attached), f"{where}.fields", "expected objects")
        for item in sorted(attached, key=lambda a: int(a.get("sort_order") or 0)):
            field_id = self.ids.get(str(item.get("field_id")))
            require(
                field_id is not None, f"{where}.fields", f"unknown field {item.get('field_id')}"
            )
            assert field_id is not None
            if field_id not in present:
                order = self.t.schema.next_sort_order(target)
                self.t.schema.attach(target, field_id, order, bool(item.get("required")))
                present.add(field_id)

    # content -----------------------------------------------------------------------------

    def route(self, entry: dict[str, Any]) -> None:
        raw = entry.get("route")
        require(isinstance(raw, dict), "route entry", "expected a route object")
        require(isinstance(entry.get("nodes"), list), "route entry", "expected a nodes list")
        assert isinstance(raw, dict)
        try:
            slug = normalise_slug(str(raw["slug"]))
            old_id = str(raw["route_id"])
        except (KeyError, InvalidValue) as exc:
            raise BadRequest(f"not a valid ModulaCMS export: route: {exc}") from None
        if self.t.routes.route_by_slug(self.site_id, slug) is not None:
            raise Conflict(f"route {slug} already exists in this project; delete it first")
        old_site = str(raw.get("site_id", ""))
        if old_site not in self.ids:
            self._map(old_site, self.site_id)
        route_id = self._id(old_id, self.t.routes.route(old_id) is not None, "route")
        moment = now()
        route = Route(
            route_id,
            self.site_id,
            slug,
            str(raw.get("title", "")),
            None,
            raw.get("author_id"),
            str(raw.get("date_created") or moment),
            str(raw.get("date_modified") or moment),
        )
        self.t.routes.insert_route(route)
        nodes = entry["nodes"]
        self._plan_node_ids(nodes, slug)
        self._insert_nodes(route, nodes)
        published = entry.get("published")
        if published:
            route = self._publish(route, published)
        self.t.audit.record(
            self.actor, "routes", route_id, "import", None, {"slug": slug, "nodes": len(nodes)}
        )

    def _plan_node_ids(self, nodes: list[Any], slug: str) -> None:
        for index, raw in enumerate(nodes):
            require(
                isinstance(raw, dict) and isinstance(raw.get("content_data_id"), str),
                f"route {slug} nodes[{index}]",
                "expected a node with a content_data_id",
            )
            old = raw["content_data_id"]
            self._id(old, self.t.content.node(old) is not None, "content")

    def _insert_nodes(self, route: Route, nodes: list[dict[str, Any]]) -> None:
        children: dict[str | None, list[str]] = {}
        for raw in nodes:
            parent = raw.get("parent_id")
            children.setdefault(None if parent is None else self.ids.get(parent, "?"), []).append(
                self.ids[raw["content_data_id"]]
            )
        roots = children.get(None, [])
        require(len(roots) <= 1, f"route {route.slug}", "more than one root node")
        require("?" not in children, f"route {route.slug}", "a node's parent is not listed")
        root_id = roots[0] if roots else ""
        nxt: dict[str, str | None] = {}
        prev: dict[str, str | None] = {}
        for siblings in children.values():
            for index, content_id in enumerate(siblings):
                prev[content_id] = siblings[index - 1] if index else None
                nxt[content_id] = siblings[index + 1] if index + 1 < len(siblings) else None
        rows: list[ValueRow] = []
        inserted: set[str] = set()
        for raw in nodes:
            content_id = self.ids[raw["content_data_id"]]
            try:
                node = self._node(raw, route, root_id, children, prev, nxt)
            except (TypeError, ValueError, KeyError) as exc:
                raise BadRequest(
                    f"not a valid ModulaCMS export: route {route.slug} node {content_id}: {exc}"
                ) from None
            require(
                node.parent_id is None or node.parent_id in inserted,
                f"route {route.slug} node {content_id}",
                "listed before its parent",
            )
            inserted.add(content_id)
            self.t.content.insert_node(node)
            rows.extend(self._values(content_id, node.datatype_id, raw.get("values") or []))
            self.nodes += 1
        self.t.content.insert_values(rows, route.route_id, self.actor.user_id, now())

    def _node(
        self,
        raw: dict[str, Any],
        route: Route,
        root_id: str,
        children: dict[str | None, list[str]],
        prev: dict[str, str | None],
        nxt: dict[str, str | None],
    ) -> ContentNode:
        content_id = self.ids[raw["content_data_id"]]
        datatype_id = self.ids.get(str(raw.get("datatype_id")))
        if datatype_id is None:
            raise ValueError(f"unknown datatype {raw.get('datatype_id')}")
        status = ContentStatus(raw.get("status", "draft"))
        parent = raw.get("parent_id")
        moment = now()
        return ContentNode(
            content_data_id=content_id,
            parent_id=None if parent is None else self.ids[parent],
            first_child_id=kids[0] if (kids := children.get(content_id)) else None,
            next_sibling_id=nxt[content_id],
            prev_sibling_id=prev[content_id],
            root_id=root_id,
            route_id=route.route_id,
            datatype_id=datatype_id,
            author_id=raw.get("author_id"),
            status=status,
            publish_at=raw.get("publish_at"),
            published_at=raw.get("published_at"),
            published_by=raw.get("published_by"),
            revision=int(raw.get("revision") or 1),
            trashed_at=None,
            date_created=str(raw.get("date_created") or moment),
            date_modified=str(raw.get("date_modified") or moment),
        )

    def _values(self, content_id: str, datatype_id: str, values: list[Any]) -> Iterator[ValueRow]:
        for item in values:
            require(
                isinstance(item, list) and len(item) == 3,
                f"node {content_id} values",
                "expected [field_id, locale, value] items",
            )
            field_id = self.ids.get(str(item[0]))
            field = self.fields.get(field_id or "")
            require(field is not None, f"node {content_id} values", f"unknown field {item[0]}")
            assert field is not None
            try:
                stored = normalise_value(field.type, field.validation, item[2])
            except InvalidValue as exc:
                raise BadRequest(
                    f"not a valid ModulaCMS export: node {content_id} field {field.name}: {exc}"
                ) from None
            if field.type in (FieldType.REFERENCE, FieldType.MEDIA) and stored is not None:
                stored = self.ids.get(stored, stored)
            yield ValueRow(new_id(), content_id, field.field_id, str(item[1] or ""), stored)

    def _publish(self, route: Route, published: dict[str, Any]) -> Route:
        raw_version = published.get("version") or {}
        snapshot = published.get("snapshot")
        if not isinstance(snapshot, dict):
            raise BadRequest(f"not a valid ModulaCMS export: route {route.slug}: no snapshot")
        old_version_id = str(raw_version.get("version_id", ""))
        self._id(
            old_version_id, self.t.versions.version_by_id(old_version_id) is not None, "version"
        )
        text = _remap_text(
            json.dumps(snapshot, separators=(",", ":"), ensure_ascii=False), self.changed
        )
        try:
            tree = from_snapshot(json.loads(text))
        except (KeyError, TypeError, ValueError) as exc:
            raise BadRequest(
                f"not a valid ModulaCMS export: route {route.slug} snapshot: {exc}"
            ) from None
        version = _version(self.ids[old_version_id], route, raw_version, snapshot)
        self.t.versions.insert(version, text)
        served = Route(**(asdict(route) | {"published_version_id": version.version_id}))
        self.t.routes.update_route(served)
        self.t.versions.index_published(route.route_id, *published_index_rows(tree))
        self.published += 1
        return served


def _version(
    version_id: str, route: Route, raw: dict[str, Any], document: dict[str, Any]
) -> ContentVersion:
    return ContentVersion(
        version_id,
        route.route_id,
        int(raw.get("version") or document.get("version") or 1),
        "published",
        int(raw.get("node_count") or document.get("node_count") or 0),
        str(raw.get("note") or ""),
        raw.get("published_by"),
        str(raw.get("date_created") or document.get("published_at") or now()),
    )
