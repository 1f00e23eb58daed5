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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any, TextIO

from modulacms import __version__
from modulacms.core.clock import now
from modulacms.core.models import Actor, Route
from modulacms.db.connection import Database
from modulacms.db.repositories.audit import AuditRepository
from modulacms.db.repositories.content import ContentRepository
from modulacms.db.repositories.routes import RouteRepository
from modulacms.db.repositories.schema import SchemaRepository
from modulacms.db.repositories.versions import VersionRepository
from modulacms.services.registry import Services
from modulacms.services.transfer.document import (
    FORMAT,
    FORMAT_VERSION,
    dumps,
    field_doc,
    node_doc,
    read,
    require,
)
from modulacms.services.transfer.importer import Importer, Repositories

Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What an import created (schema items reused by name are not counted)."""

    routes: int
    nodes: int
    published: int
    datatypes_created: int
    fields_created: int


@dataclass(frozen=True, slots=True)
class ExportReport:
    """What an export wrote."""

    routes: int
    nodes: int


class Transfer:
    """Export a site or route to a document; import such a document into this project."""

    def __init__(self, db: Database, services: Services) -> None:
        self.db = db
        self.services = services
        self.repos = Repositories(
            ContentRepository(db),
            RouteRepository(db),
            SchemaRepository(db),
            VersionRepository(db),
            AuditRepository(db),
        )
        self.content = self.repos.content
        self.schema = self.repos.schema
        self.versions = self.repos.versions

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
        on one line unless ``pretty``. Everything is read in one read transaction: the
        document is consistent even while others write, and writers are never held up
        (WAL readers do not block them). Raises ``NotFound`` for an unknown route.
        """
        actor.require("content:read")
        with self._read_snapshot():
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
            out.write(dumps(header, pretty)[:-1] + ',"routes":[')
            nodes = 0
            for index, item in enumerate(chosen):
                text, count = entries[0] if entries else self._export_route(item, pretty, None)
                out.write(("\n" if index == 0 else "\n,") + text)
                nodes += count
                if progress is not None:
                    progress(index + 1, len(chosen))
            out.write("\n]}\n")
        return ExportReport(len(chosen), nodes)

    @contextmanager
    def _read_snapshot(self) -> Iterator[None]:
        """Pin one snapshot of the database for every read this thread makes meanwhile."""
        # outside a write transaction the services read through this thread's reader
        # connection; an open read transaction on it makes all those reads agree
        conn = self.db.connection()
        conn.execute("BEGIN")
        try:
            yield
        finally:
            conn.execute("COMMIT")

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
            "fields": [field_doc(f) for f in fields],
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
            [] if tree.root is None else [node_doc(item.node, values) for item in tree.root.walk()]
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
            return dumps(entry, pretty), len(nodes)
        if pretty:
            entry["published"]["snapshot"] = json.loads(snapshot)
            return dumps(entry, pretty), len(nodes)
        # the stored snapshot is compact JSON already: splice it in rather than parse it
        text = dumps(entry, False)
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
        header, entries, total = read(source)
        job = Importer(self.repos, actor, new_ids)
        routes = 0
        with self.db.transaction():
            job.site_id = self.services.routes.ensure_default_site().site_id
            job.schema(header["fields"], header["datatypes"])
            for entry in entries:
                require(isinstance(entry, dict), f"routes[{routes}]", "expected an object")
                job.route(entry)
                routes += 1
                if progress is not None:
                    progress(routes, max(routes, total))
        return ImportReport(
            routes, job.nodes, job.published, job.datatypes_created, job.fields_created
        )
