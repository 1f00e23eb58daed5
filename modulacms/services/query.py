"""Querying published content by field values (what ``GET /api/v1/query/{datatype}`` serves).

Filters are ``(field name, operator, value)`` with operators ``eq, neq, gt, gte, lt, lte,
like, in`` (``in`` takes a comma-separated list). Number fields compare as numbers,
boolean and date fields by their canonical text, so ``true`` and ``2026-01-31`` work as
written. ``sort`` is a field name, ``-name`` for descending (empty values count as smallest,
as in SQL); without it, newest published first. Every published node has an index row for
each field its datatype had when it was published, so sorting by a field attached later
leaves out nodes not published since. ``limit`` defaults to 20 and is capped at 100.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from modulacms.core.models import Actor, DatatypeField, FieldType
from modulacms.core.validation import InvalidValue, normalise_value, typed_value
from modulacms.db.connection import Database
from modulacms.db.repositories.published import OPERATORS, Filter, PublishedRepository, Sort
from modulacms.errors import ErrorCollector
from modulacms.services.schema import SchemaService

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
QUERY_OPERATORS = (*OPERATORS, "in")
SORT_INDEX_THRESHOLD = 200


@dataclass(frozen=True, slots=True)
class PublishedItem:
    """A published node as the query endpoint returns it: typed field values."""

    id: str
    type: str
    route: str
    published_at: str
    date_created: str
    date_modified: str
    fields: dict[str, Any]


@dataclass(frozen=True, slots=True)
class QueryPage:
    items: list[PublishedItem]
    total: int
    limit: int
    offset: int


class QueryService:
    """Published nodes of one datatype, filtered and sorted in SQL. Public: no permission."""

    def __init__(self, db: Database, schema: SchemaService) -> None:
        self.schema = schema
        self.repo = PublishedRepository(db)

    def query(
        self,
        datatype: str,
        filters: Sequence[tuple[str, str, str]] = (),
        *,
        sort: str | None = None,
        limit: int = DEFAULT_LIMIT,
        offset: int = 0,
        actor: Actor | None = None,
    ) -> QueryPage:
        """Raises ``NotFound`` for an unknown datatype, ``ValidationFailed`` for bad filters."""
        dt = self.schema.datatype(datatype)
        fields = {df.field.name: df for df in self.schema.fields_of(dt.datatype_id)}
        errors = ErrorCollector()
        built = [f for f in (self._filter(fields, item, errors) for item in filters) if f]
        order = self._sort(fields, sort, errors)
        if limit < 1:
            errors.add("limit", "must be at least 1")
        if offset < 0:
            errors.add("offset", "must be 0 or more")
        errors.raise_if_any("invalid query")
        limit = min(limit, MAX_LIMIT)
        total = self.repo.count(dt.datatype_id, built)
        rows = []
        if offset < total:
            # many matches: walking the sort index finds a page quickly; few: sort them all
            by_sort_index = order is not None and total > SORT_INDEX_THRESHOLD
            rows = self.repo.page(
                dt.datatype_id, built, order, limit, offset, by_sort_index=by_sort_index
            )
        by_id = {df.field.field_id: df for df in fields.values()}
        values: dict[str, dict[str, Any]] = {r.content_data_id: {} for r in rows}
        for content_id, field_id, value in self.repo.values([r.content_data_id for r in rows]):
            df = by_id.get(field_id)
            if df is not None:
                values[content_id][df.field.name] = typed_value(df.field.type, value)
        items = [
            PublishedItem(
                r.content_data_id,
                dt.name,
                r.slug,
                r.published_at,
                r.date_created,
                r.date_modified,
                {name: values[r.content_data_id].get(name) for name in fields},
            )
            for r in rows
        ]
        return QueryPage(items, total, limit, offset)

    def _filter(
        self, fields: dict[str, DatatypeField], item: tuple[str, str, str], errors: ErrorCollector
    ) -> Filter | None:
        name, op, raw = item
        df = fields.get(name)
        if df is None:
            errors.add(name, f"not a field of this datatype (fields: {', '.join(fields)})")
            return None
        if op not in QUERY_OPERATORS:
            errors.add(name, f"unknown operator {op!r}; one of {', '.join(QUERY_OPERATORS)}")
            return None
        numeric = df.field.type is FieldType.NUMBER
        if op == "like":
            return Filter(df.field.field_id, False, op, raw)
        raws = raw.split(",") if op == "in" else [raw]
        try:
            clean = [self._value(df, r) for r in raws]
        except InvalidValue as exc:
            errors.add(name, str(exc))
            return None
        return Filter(df.field.field_id, numeric, op, clean if op == "in" else clean[0])

    @staticmethod
    def _value(df: DatatypeField, raw: str) -> Any:
        kind = df.field.type
        if kind is FieldType.NUMBER:
            return float(normalise_value(kind, {}, raw) or 0)
        if kind in (FieldType.BOOLEAN, FieldType.DATE, FieldType.DATETIME):
            return normalise_value(kind, {}, raw)
        return raw

    @staticmethod
    def _sort(
        fields: dict[str, DatatypeField], sort: str | None, errors: ErrorCollector
    ) -> Sort | None:
        if not sort:
            return None
        name = sort.removeprefix("-")
        df = fields.get(name)
        if df is None:
            errors.add("sort", f"not a field of this datatype: {name}")
            return None
        return Sort(df.field.field_id, df.field.type is FieldType.NUMBER, sort.startswith("-"))
