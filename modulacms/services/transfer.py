"""Export and import of a whole site or one route as a JSON document.

The document holds the schema (fields, datatypes and their attachments), and per route
the route itself, its live draft tree (trash excluded) with every stored value in every
locale, and the snapshot that is being served. Importing it inserts the drafts as they
were and the served snapshot verbatim, so every delivery format of an imported route
returns exactly what the exporting project returned. Shape::

    {"format": "modulacms-export", "format_version": 1, "exported_at": "...",
     "scope": "site" | "/slug",
     "fields": [{field_id, name, label, type, validation, ui_config, translatable, ...}],
     "datatypes": [{datatype_id, name, ..., "fields": [{field_id, sort_order, required}]}],
     "routes": [{"route": {route_id, slug, title, ...},
                 "nodes": [{content_data_id, parent_id, datatype_id, status, ...,
                            "values": [[field_id, locale, value], ...]}, ...],
                 "published": null | {"version": {...}, "snapshot": {...}}}]}

Nodes are listed parent before child, siblings in order; the importer rebuilds the pointer
chains from that order. The exporter writes the header on the first line and each route on
a line of its own, and the importer reads that layout a route at a time, so neither side
holds a whole site in memory; a document laid out differently is still read, whole.

Ids are kept by default; ``new_ids`` replaces every id (routes, nodes, datatypes, fields,
versions) with a fresh one, references and snapshots included.
Schema items whose name already exists in the target are reused when their type matches.
An import is one transaction: it all lands, or nothing does.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any, TextIO

from modulacms import __version__
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
    RouteTree,
)
from modulacms.core.snapshot import from_snapshot
from modulacms.core.validation import (
    InvalidValue,
    check_name,
    check_rules,
    normalise_slug,
    normalise_value,
    numeric_value,
)
from modulacms.db.connection import Database
from modulacms.db.repositories.audit import AuditRepository
from modulacms.db.repositories.content import ContentRepository, ValueRow
from modulacms.db.repositories.routes import RouteRepository
from modulacms.db.repositories.schema import SchemaRepository
from modulacms.db.repositories.versions import PublishedValue, VersionRepository
from modulacms.errors import BadRequest, Conflict
from modulacms.services.registry import Services

FORMAT = "modulacms-export"
FORMAT_VERSION = 1

Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What an import created (schema items reused by name are not counted)."""

    routes: int
    nodes: int
    published: int
    datatypes_created: int
    fields_created: int


# -- export ------------------------------------------------------------------------------


def _field_doc(field: Field) -> dict[str, Any]:
    data = asdict(field)
    data["type"] = field.type.value
    return data


class Transfer:
    """Export a site or route to a document; import such a document into this project."""

    def __init__(self, db: Database, services: Services) -> None:
        self.db = db
        self.services = services
        self.content = ContentRepository(db)
        self.routes = RouteRepository(db)
        self.schema = SchemaRepository(db)
        self.versions = VersionRepository(db)
        self.audit = AuditRepository(db)

    def export(
        self,
        out: TextIO,
        actor: Actor,
        route: str | None = None,
        *,
        pretty: bool = False,
        progress: Progress | None = None,
    ) -> ExportReport:
        """Write the export document of the whole site, or of ``route``, to ``out``.

        Routes are written one at a time (memory stays flat however big the site), each
        on one line unless ``pretty``. Everything is read in one transaction, so the
        document is consistent even while others write. Raises ``NotFound`` for an
        unknown route.
        """
        actor.require("content:read")
        with self.db.transaction():
            chosen = [self.services.routes.get(route)] if route else self.services.routes.list()
            used: set[str] | None = None
            entries: list[tuple[str, int]] = []
            if route is not None:
                # one route: its schema is only known once the route has been read
                used = set()
                entries.append(self._export_route(chosen[0], pretty, used))
            header = {
                "format": FORMAT,
                "format_version": FORMAT_VERSION,
                "modulacms_version": __version__,
                "exported_at": now(),
                "scope": "site" if route is None else chosen[0].slug,
                **self._export_schema(used),
            }
            out.write(_dumps(header, pretty)[:-1] + ',"routes":[')
            nodes = 0
            for index, item in enumerate(chosen):
                text, count = entries[0] if entries else self._export_route(item, pretty, None)
                out.write(("\n" if index == 0 else "\n,") + text)
                nodes += count
                if progress is not None:
                    progress(index + 1, len(chosen))
            out.write("\n]}\n")
        return ExportReport(len(chosen), nodes)

    def _export_schema(self, datatype_ids: set[str] | None) -> dict[str, Any]:
        datatypes = [
            d
            for d in self.schema.datatypes()
            if datatype_ids is None or d.datatype_id in datatype_ids
        ]
        attached = self.schema.attached([d.datatype_id for d in datatypes])
        field_ids = {df.field.field_id for fs in attached.values() for df in fs}
        fields = [
            f for f in self.schema.fields() if datatype_ids is None or f.field_id in field_ids
        ]
        return {
            "fields": [_field_doc(f) for f in fields],
            "datatypes": [
                asdict(d)
                | {
                    "fields": [
                        {
                            "field_id": df.field.field_id,
                            "sort_order": df.sort_order,
                            "required": df.required,
                        }
                        for df in attached[d.datatype_id]
                    ]
                }
                for d in datatypes
            ],
        }

    def _export_route(self, route: Route, pretty: bool, used: set[str] | None) -> tuple[str, int]:
        """One route entry as JSON text, and its number of nodes; notes the datatypes
        it uses in ``used`` when given."""
        tree = self.services.content.tree(route.route_id)
        values: dict[str, list[list[Any]]] = {}
        for content_id, field_id, locale, value in self.content.route_values(route.route_id):
            values.setdefault(content_id, []).append([field_id, locale, value])
        nodes = (
            [] if tree.root is None else [_node_doc(item.node, values) for item in tree.root.walk()]
        )
        entry: dict[str, Any] = {"route": asdict(route), "nodes": nodes, "published": None}
        snapshot = None
        if route.published_version_id is not None:
            version = self.versions.version_by_id(route.published_version_id)
            snapshot = self.versions.snapshot(route.published_version_id)
            if version is not None and snapshot is not None:
                entry["published"] = {"version": asdict(version), "snapshot": None}
        if used is not None:
            used.update(n["datatype_id"] for n in nodes)
            if snapshot is not None:
                used.update(json.loads(snapshot).get("datatypes", {}))
        if entry["published"] is None or snapshot is None:
            return _dumps(entry, pretty), len(nodes)
        if pretty:
            entry["published"]["snapshot"] = json.loads(snapshot)
            return _dumps(entry, pretty), len(nodes)
        # the stored snapshot is compact JSON already: splice it in rather than parse it
        text = _dumps(entry, False)
        tail = '"snapshot":null}}'
        assert text.endswith(tail)
        return text[: -len("null}}")] + snapshot + "}}", len(nodes)

    # -- import ----------------------------------------------------------------------------

    def import_(
        self,
        source: TextIO,
        actor: Actor,
        *,
        new_ids: bool = False,
        progress: Progress | None = None,
    ) -> ImportReport:
        """Import an export document read from ``source`` (see the module docstring).

        A document written by :meth:`export` is read one route at a time; any other
        layout of the same JSON is read whole. Raises ``BadRequest`` for a document that
        is not a ModulaCMS export, is not JSON, or is malformed (naming where),
        ``ValidationFailed`` for a bad value, and ``Conflict`` when a route slug, an id
        (without ``new_ids``) or a same-named field of another type already exists.
        Nothing is written when anything fails.
        """
        actor.require("content:create")
        header, entries, total = _read(source)
        job = _Import(self, actor, new_ids)
        routes = 0
        with self.db.transaction():
            job.site_id = self.services.routes.ensure_default_site().site_id
            job.schema(header["fields"], header["datatypes"])
            for entry in entries:
                _require(isinstance(entry, dict), f"routes[{routes}]", "expected an object")
                job.route(entry)
                routes += 1
                if progress is not None:
                    progress(routes, max(routes, total))
        return ImportReport(
            routes, job.nodes, job.published, job.datatypes_created, job.fields_created
        )


@dataclass(frozen=True, slots=True)
class ExportReport:
    """What an export wrote."""

    routes: int
    nodes: int


def _dumps(value: Any, pretty: bool) -> str:
    if pretty:
        return json.dumps(value, ensure_ascii=False, indent=2)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _node_doc(node: ContentNode, values: dict[str, list[list[Any]]]) -> dict[str, Any]:
    return {
        "content_data_id": node.content_data_id,
        "parent_id": node.parent_id,
        "datatype_id": node.datatype_id,
        "author_id": node.author_id,
        "status": node.status.value,
        "publish_at": node.publish_at,
        "published_at": node.published_at,
        "published_by": node.published_by,
        "revision": node.revision,
        "date_created": node.date_created,
        "date_modified": node.date_modified,
        "values": values.get(node.content_data_id, []),
    }


def _require(condition: bool, where: str, problem: str) -> None:
    if not condition:
        raise BadRequest(f"not a valid ModulaCMS export: {where}: {problem}")


def _loads(text: str, where: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadRequest(
            f"{where} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None


_ROUTES_OPEN = ',"routes":['


def _read(source: TextIO) -> tuple[dict[str, Any], Iterator[Any], int]:
    """(header, route entries, number of routes or 0 when unknown) of an export.

    The layout :meth:`Transfer.export` writes (header line ending in ``"routes":[``, then
    one route per line, then ``]}``) is streamed; anything else is parsed whole.
    """
    first = source.readline()
    line = first.rstrip("\n")
    if not line.endswith(_ROUTES_OPEN):
        document = _checked(_loads(first + source.read(), "the export"))
        _require(isinstance(document.get("routes"), list), "routes", "expected a list")
        return document, iter(document["routes"]), len(document["routes"])
    header = _checked(_loads(line[: -len(_ROUTES_OPEN)] + "}", "the export header"))
    total = 0
    if source.seekable():
        # count the route lines first so that progress can show a total
        position = source.tell()
        total = max(0, sum(1 for _ in source) - 1)
        source.seek(position)
    return header, _entries(source), total


def _entries(source: TextIO) -> Iterator[Any]:
    for number, line in enumerate(source, start=2):
        text = line.strip()
        if text == "]}":
            return
        if text:
            yield _loads(text.removeprefix(","), f"line {number} of the export")
    raise BadRequest("not a valid ModulaCMS export: it ends before its closing ]}")


def _checked(document: Any) -> dict[str, Any]:
    """The header of a document, once it is known to be an export this version reads."""
    _require(isinstance(document, dict), "document", "expected a JSON object")
    _require(document.get("format") == FORMAT, "format", f'expected "{FORMAT}"')
    version = document.get("format_version")
    _require(
        version == FORMAT_VERSION,
        "format_version",
        f"this ModulaCMS reads version {FORMAT_VERSION}, the file is version {version}",
    )
    for key in ("fields", "datatypes"):
        _require(isinstance(document.get(key), list), key, "expected a list")
    checked: dict[str, Any] = document
    return checked


_ID_TOKEN = re.compile(r'"([0-9A-Za-z]{26})"')


def _remap_text(text: str, changed: dict[str, str]) -> str:
    """JSON ``text`` with every quoted id in ``changed`` replaced (keys included)."""
    if not changed:
        return text
    return _ID_TOKEN.sub(lambda m: f'"{changed.get(m.group(1), m.group(1))}"', text)


class _Import:
    """The state of one import: the id map and what has been created so far."""

    def __init__(self, transfer: Transfer, actor: Actor, new_ids: bool) -> None:
        self.t = transfer
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
        _require(not problems, f"{where} ({field.name})", "; ".join(problems))
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
            self.actor, "fields", stored.field_id, "import", None, _field_doc(stored)
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
        _require(problem is None, f"{where} ({datatype.name})", str(problem))
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
        _require(all(isinstance(a, dict) for a in attached), f"{where}.fields", "expected objects")
        for item in sorted(attached, key=lambda a: int(a.get("sort_order") or 0)):
            field_id = self.ids.get(str(item.get("field_id")))
            _require(
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
        _require(isinstance(raw, dict), "route entry", "expected a route object")
        _require(isinstance(entry.get("nodes"), list), "route entry", "expected a nodes list")
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
            _require(
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
        _require(len(roots) <= 1, f"route {route.slug}", "more than one root node")
        _require("?" not in children, f"route {route.slug}", "a node's parent is not listed")
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
            _require(
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
            _require(
                isinstance(item, list) and len(item) == 3,
                f"node {content_id} values",
                "expected [field_id, locale, value] items",
            )
            field_id = self.ids.get(str(item[0]))
            field = self.fields.get(field_id or "")
            _require(field is not None, f"node {content_id} values", f"unknown field {item[0]}")
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
        try:
            tree = from_snapshot(snapshot)
        except (KeyError, TypeError, ValueError) as exc:
            raise BadRequest(
                f"not a valid ModulaCMS export: route {route.slug} snapshot: {exc}"
            ) from None
        changed = self.changed
        text = json.dumps(snapshot, separators=(",", ":"), ensure_ascii=False)
        version = _version(self.ids[old_version_id], route, raw_version, snapshot)
        self.t.versions.insert(version, _remap_text(text, changed))
        served = Route(**(asdict(route) | {"published_version_id": version.version_id}))
        self.t.routes.update_route(served)
        _index(self.t.versions, tree, route.route_id, changed)
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


def _index(
    versions: VersionRepository, tree: RouteTree, route_id: str, changed: dict[str, str]
) -> None:
    """The published-index rows of an imported snapshot (what /api/v1/query filters);
    ``tree`` still carries the exported ids, ``changed`` maps them to the imported ones."""
    nodes, values = [], []
    if tree.root is not None:
        for item in tree.root.walk():
            node = item.node
            content_id = changed.get(node.content_data_id, node.content_data_id)
            nodes.append(
                (
                    content_id,
                    changed.get(node.datatype_id, node.datatype_id),
                    node.published_at or node.date_modified,
                    node.date_created,
                    node.date_modified,
                )
            )
            for df in item.fields:
                stored = item.values.get(df.field.name)
                if df.field.type in (FieldType.REFERENCE, FieldType.MEDIA) and stored:
                    stored = changed.get(stored, stored)
                values.append(
                    PublishedValue(
                        content_id,
                        changed.get(df.field.field_id, df.field.field_id),
                        "",
                        stored,
                        numeric_value(df.field.type, stored),
                    )
                )
    versions.index_published(route_id, nodes, values)
