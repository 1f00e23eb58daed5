"""Datatypes, fields and the join between them."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from typing import Any

from modulacms.core.models import Datatype, DatatypeField, Field, FieldType, from_values
from modulacms.db.connection import Database, Row

_DT = "datatype_id, name, label, description, author_id, date_created, date_modified"
_FIELD = (
    "field_id, name, label, type, validation, ui_config, translatable, author_id, "
    "date_created, date_modified"
)


def datatype_from_row(row: Row) -> Datatype:
    return from_values(Datatype, row)


_TYPES = {kind.value: kind for kind in FieldType}


def _json(text: str) -> dict[str, Any]:
    return {} if text == "{}" else dict(json.loads(text))


def _field(row: Row) -> Field:
    values = (
        row[0],
        row[1],
        row[2],
        _TYPES[row[3]],
        _json(row[4]),
        _json(row[5]),
        bool(row[6]),
        row[7],
        row[8],
        row[9],
    )
    return from_values(Field, values)


class SchemaRepository:
    """SQL for ``datatypes``, ``fields`` and ``datatypes_fields``.

    The fields attached to each datatype are cached: every route load and every content
    write needs them and they rarely change. Triggers move ``meta.schema_generation`` on
    any schema write from any process; a changed generation empties the cache.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self._attached: dict[str, tuple[DatatypeField, ...]] = {}
        self._generation: int | None = None
        self._lock = threading.Lock()

    def generation(self) -> int:
        """The schema generation as the calling thread's connection sees it."""
        return int(self.db.scalar("SELECT value FROM meta WHERE key = 'schema_generation'"))

    # datatypes --------------------------------------------------------------------------

    def datatypes(self) -> list[Datatype]:
        return [
            datatype_from_row(r)
            for r in self.db.execute(f"SELECT {_DT} FROM datatypes ORDER BY name")
        ]

    def datatype(self, datatype_id: str) -> Datatype | None:
        row = self.db.one(f"SELECT {_DT} FROM datatypes WHERE datatype_id = ?", (datatype_id,))
        return None if row is None else datatype_from_row(row)

    def datatype_by_name(self, name: str) -> Datatype | None:
        row = self.db.one(f"SELECT {_DT} FROM datatypes WHERE name = ?", (name,))
        return None if row is None else datatype_from_row(row)

    def datatypes_by_ids(self, ids: Iterable[str]) -> dict[str, Datatype]:
        wanted = list(set(ids))
        if not wanted:
            return {}
        marks = ",".join("?" * len(wanted))
        rows = self.db.execute(
            f"SELECT {_DT} FROM datatypes WHERE datatype_id IN ({marks})", wanted
        )
        return {r[0]: datatype_from_row(r) for r in rows}

    def insert_datatype(self, dt: Datatype) -> None:
        self.db.connection().execute(
            f"INSERT INTO datatypes ({_DT}) VALUES (?,?,?,?,?,?,?)",
            (
                dt.datatype_id,
                dt.name,
                dt.label,
                dt.description,
                dt.author_id,
                dt.date_created,
                dt.date_modified,
            ),
        )

    def update_datatype(self, dt: Datatype) -> None:
        self.db.connection().execute(
            "UPDATE datatypes SET name = ?, label = ?, description = ?, date_modified = ? "
            "WHERE datatype_id = ?",
            (dt.name, dt.label, dt.description, dt.date_modified, dt.datatype_id),
        )

    def delete_datatype(self, datatype_id: str) -> None:
        self.db.connection().execute("DELETE FROM datatypes WHERE datatype_id = ?", (datatype_id,))

    def datatype_in_use(self, datatype_id: str) -> int:
        """How many content nodes (live or trashed) use the datatype."""
        return int(
            self.db.scalar(
                "SELECT count(*) FROM content_data WHERE datatype_id = ?", (datatype_id,)
            )
        )

    # fields -----------------------------------------------------------------------------

    def fields(self) -> list[Field]:
        return [_field(r) for r in self.db.execute(f"SELECT {_FIELD} FROM fields ORDER BY name")]

    def field(self, field_id: str) -> Field | None:
        row = self.db.one(f"SELECT {_FIELD} FROM fields WHERE field_id = ?", (field_id,))
        return None if row is None else _field(row)

    def field_by_name(self, name: str) -> Field | None:
        row = self.db.one(f"SELECT {_FIELD} FROM fields WHERE name = ?", (name,))
        return None if row is None else _field(row)

    def insert_field(self, f: Field) -> None:
        self.db.connection().execute(
            f"INSERT INTO fields ({_FIELD}) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (
                f.field_id,
                f.name,
                f.label,
                f.type.value,
                json.dumps(f.validation),
                json.dumps(f.ui_config),
                int(f.translatable),
                f.author_id,
                f.date_created,
                f.date_modified,
            ),
        )

    def update_field(self, f: Field) -> None:
        self.db.connection().execute(
            "UPDATE fields SET name = ?, label = ?, type = ?, validation = ?, ui_config = ?, "
            "translatable = ?, date_modified = ? WHERE field_id = ?",
            (
                f.name,
                f.label,
                f.type.value,
                json.dumps(f.validation),
                json.dumps(f.ui_config),
                int(f.translatable),
                f.date_modified,
                f.field_id,
            ),
        )

    def delete_field(self, field_id: str) -> None:
        self.db.connection().execute("DELETE FROM fields WHERE field_id = ?", (field_id,))

    def field_in_use(self, field_id: str) -> list[str]:
        """Names of the datatypes the field is attached to."""
        rows = self.db.execute(
            "SELECT d.name FROM datatypes_fields j JOIN datatypes d USING (datatype_id) "
            "WHERE j.field_id = ? ORDER BY d.name",
            (field_id,),
        )
        return [r[0] for r in rows]

    # datatypes_fields -------------------------------------------------------------------

    def attached(self, datatype_ids: Iterable[str]) -> dict[str, list[DatatypeField]]:
        """The fields of each datatype, in order (cached; see the class docstring)."""
        wanted = set(datatype_ids)
        generation = self.generation()
        with self._lock:
            if generation != self._generation:
                self._attached.clear()
                self._generation = generation
            cached = {d: self._attached[d] for d in wanted if d in self._attached}
        missing = wanted - cached.keys()
        if missing:
            loaded = self._load_attached(missing)
            with self._lock:
                if generation == self._generation:
                    self._attached.update(loaded)
            cached.update(loaded)
        return {d: list(fields) for d, fields in cached.items()}

    def _load_attached(self, datatype_ids: set[str]) -> dict[str, tuple[DatatypeField, ...]]:
        """One query for the fields of any number of datatypes, in order."""
        wanted = list(datatype_ids)
        result: dict[str, list[DatatypeField]] = {d: [] for d in wanted}
        marks = ",".join("?" * len(wanted))
        columns = ", ".join(f"f.{c.strip()}" for c in _FIELD.split(","))
        rows = self.db.execute(
            f"SELECT j.datatype_id, j.sort_order, j.required, {columns} "
            "FROM datatypes_fields j JOIN fields f USING (field_id) "
            f"WHERE j.datatype_id IN ({marks}) ORDER BY j.datatype_id, j.sort_order",
            wanted,
        )
        for row in rows:
            attached = (row[0], _field(row[3:]), int(row[1]), bool(row[2]))
            result[row[0]].append(from_values(DatatypeField, attached))
        return {d: tuple(fields) for d, fields in result.items()}

    def attach(self, datatype_id: str, field_id: str, sort_order: int, required: bool) -> None:
        self.db.connection().execute(
            "INSERT INTO datatypes_fields (datatype_id, field_id, sort_order, required) "
            "VALUES (?,?,?,?)",
            (datatype_id, field_id, sort_order, int(required)),
        )

    def set_required(self, datatype_id: str, field_id: str, required: bool) -> None:
        self.db.connection().execute(
            "UPDATE datatypes_fields SET required = ? WHERE datatype_id = ? AND field_id = ?",
            (int(required), datatype_id, field_id),
        )

    def detach(self, datatype_id: str, field_id: str) -> None:
        self.db.connection().execute(
            "DELETE FROM datatypes_fields WHERE datatype_id = ? AND field_id = ?",
            (datatype_id, field_id),
        )

    def set_order(self, datatype_id: str, field_ids: list[str]) -> None:
        conn = self.db.connection()
        for position, field_id in enumerate(field_ids):
            conn.execute(
                "UPDATE datatypes_fields SET sort_order = ? WHERE datatype_id = ? AND field_id = ?",
                (position, datatype_id, field_id),
            )

    def next_sort_order(self, datatype_id: str) -> int:
        value = self.db.scalar(
            "SELECT coalesce(max(sort_order) + 1, 0) FROM datatypes_fields WHERE datatype_id = ?",
            (datatype_id,),
        )
        return int(value)


def datatype_row(dt: Datatype) -> dict[str, Any]:
    """The audit/hook representation of a datatype."""
    return {
        "datatype_id": dt.datatype_id,
        "name": dt.name,
        "label": dt.label,
        "description": dt.description,
    }


def field_row(f: Field) -> dict[str, Any]:
    """The audit/hook representation of a field."""
    return {
        "field_id": f.field_id,
        "name": f.name,
        "label": f.label,
        "type": f.type.value,
        "validation": f.validation,
        "translatable": f.translatable,
    }
