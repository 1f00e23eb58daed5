"""Filtering and sorting published nodes by field values, in SQL.

Each filter becomes one join on ``published_fields`` by (node, field) that an index on
``(field_id, value_text)`` or ``(field_id, value_num)`` serves; numbers compare through
``value_num`` so ``10 > 9``. Column and operator choices come from code; field ids and
values are always bound parameters.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from modulacms.db.connection import Database

OPERATORS: dict[str, str] = {
    "eq": "= ?",
    "neq": "!= ?",
    "gt": "> ?",
    "gte": ">= ?",
    "lt": "< ?",
    "lte": "<= ?",
    "like": "LIKE ? ESCAPE '\\'",
}
MAX_IN_VALUES = 100


@dataclass(frozen=True, slots=True)
class Filter:
    """One condition: ``field_id`` compared with ``op`` (a key of OPERATORS, or ``in``)."""

    field_id: str
    numeric: bool
    op: str
    value: Any


@dataclass(frozen=True, slots=True)
class Sort:
    field_id: str
    numeric: bool
    descending: bool


@dataclass(frozen=True, slots=True)
class PublishedRow:
    content_data_id: str
    route_id: str
    slug: str
    published_at: str
    date_created: str
    date_modified: str


def _where(filters: Sequence[Filter]) -> tuple[str, list[Any]]:
    joins, params = [], []
    for index, item in enumerate(filters):
        alias = f"f{index}"
        column = f"{alias}.value_num" if item.numeric else f"{alias}.value_text"
        if item.op == "in":
            values = list(item.value)[:MAX_IN_VALUES]
            test = f"{column} IN ({','.join('?' * len(values))})"
        else:
            values = [item.value]
            test = f"{column} {OPERATORS[item.op]}"
        joins.append(
            f"JOIN published_fields {alias} ON {alias}.content_data_id = n.content_data_id "
            f"AND {alias}.field_id = ? AND {alias}.locale = '' AND {test}"
        )
        params.extend([item.field_id, *values])
    return " ".join(joins), params


class PublishedRepository:
    """Reads the published index."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def query(
        self,
        datatype_id: str,
        filters: Sequence[Filter],
        sort: Sort | None,
        limit: int,
        offset: int,
    ) -> tuple[list[PublishedRow], int]:
        """One page of matching published nodes and the total number of matches."""
        joins, params = _where(filters)
        base = f"FROM published_nodes n {joins} WHERE n.datatype_id = ?"
        params.append(datatype_id)
        total = int(self.db.scalar(f"SELECT count(*) {base}", params))
        order = "n.published_at DESC, n.content_data_id"
        sort_join, sort_params = "", []
        if sort is not None:
            column = "s.value_num" if sort.numeric else "s.value_text"
            direction = "DESC" if sort.descending else "ASC"
            sort_join = (
                "LEFT JOIN published_fields s ON s.content_data_id = n.content_data_id "
                "AND s.field_id = ? AND s.locale = ''"
            )
            sort_params = [sort.field_id]
            order = f"{column} IS NULL, {column} {direction}, n.content_data_id"
        rows = self.db.execute(
            "SELECT n.content_data_id, n.route_id, r.slug, n.published_at, n.date_created, "
            f"n.date_modified FROM published_nodes n {joins} {sort_join} "
            "JOIN routes r ON r.route_id = n.route_id "
            f"WHERE n.datatype_id = ? ORDER BY {order} LIMIT ? OFFSET ?",
            [*params[:-1], *sort_params, datatype_id, limit, offset],
        )
        return [PublishedRow(*r) for r in rows], total

    def values(self, ids: Sequence[str]) -> list[tuple[str, str, str | None]]:
        """(content_data_id, field_id, value_text) of the given nodes (default locale)."""
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        return [
            (r[0], r[1], r[2])
            for r in self.db.execute(
                "SELECT content_data_id, field_id, value_text FROM published_fields "
                f"WHERE content_data_id IN ({marks}) AND locale = ''",
                list(ids),
            )
        ]

    def plan(self, datatype_id: str, filters: Sequence[Filter], sort: Sort | None) -> list[str]:
        """``EXPLAIN QUERY PLAN`` lines of :meth:`query`, for checks and benchmarks."""
        joins, params = _where(filters)
        sort_join, sort_params = "", []
        if sort is not None:
            sort_join = (
                "LEFT JOIN published_fields s ON s.content_data_id = n.content_data_id "
                "AND s.field_id = ? AND s.locale = ''"
            )
            sort_params = [sort.field_id]
        rows = self.db.execute(
            f"EXPLAIN QUERY PLAN SELECT n.content_data_id FROM published_nodes n {joins} "
            f"{sort_join} WHERE n.datatype_id = ? ORDER BY 1 LIMIT 20",
            [*params, *sort_params, datatype_id],
        )
        return [str(r[3]) for r in rows]
