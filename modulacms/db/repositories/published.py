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


def _test(alias: str, item: Filter) -> tuple[str, list[Any]]:
    """The comparison of one filter on the ``published_fields`` row ``alias``."""
    column = f"{alias}.value_num" if item.numeric else f"{alias}.value_text"
    if item.op == "in":
        values = list(item.value)[:MAX_IN_VALUES]
        return f"{column} IN ({','.join('?' * len(values))})", values
    return f"{column} {OPERATORS[item.op]}", [item.value]


def _count_sql(datatype_id: str, filters: Sequence[Filter]) -> tuple[str, list[Any]]:
    """Count matches from the filters' indexes alone: values carry their node's datatype,
    so the node rows are never read. Every filter names field and datatype, so SQLite can
    start from whichever is most selective."""
    if not filters:
        return "SELECT count(*) FROM published_nodes WHERE datatype_id = ?", [datatype_id]
    sources, conditions, params = [], [], []
    for index, item in enumerate(filters):
        alias = f"f{index}"
        test, values = _test(alias, item)
        sources.append(f"published_fields {alias}")
        link = f" AND {alias}.content_data_id = f0.content_data_id" if index else ""
        conditions.append(
            f"{alias}.field_id = ? AND {alias}.datatype_id = ? AND {alias}.locale = '' "
            f"AND {test}{link}"
        )
        params.extend([item.field_id, datatype_id, *values])
    sql = f"SELECT count(*) FROM {', '.join(sources)} WHERE {' AND '.join(conditions)}"
    return sql, params


def _where(filters: Sequence[Filter]) -> tuple[str, list[Any]]:
    joins, params = [], []
    for index, item in enumerate(filters):
        alias = f"f{index}"
        test, values = _test(alias, item)
        joins.append(
            f"JOIN published_fields {alias} ON {alias}.content_data_id = n.content_data_id "
            f"AND {alias}.field_id = ? AND {alias}.locale = '' AND {test}"
        )
        params.extend([item.field_id, *values])
    return " ".join(joins), params


_COLUMNS = "n.content_data_id, n.route_id, r.slug, n.published_at, n.date_created, n.date_modified"


def _page_sql(
    datatype_id: str, filters: Sequence[Filter], sort: Sort | None, by_sort_index: bool
) -> tuple[str, list[Any]]:
    joins, params = _where(filters)
    if sort is None:
        return (
            f"SELECT {_COLUMNS} FROM published_nodes n {joins} "
            "JOIN routes r ON r.route_id = n.route_id WHERE n.datatype_id = ? "
            "ORDER BY n.published_at DESC, n.content_data_id DESC LIMIT ? OFFSET ?",
            [*params, datatype_id],
        )
    column = "s.value_num" if sort.numeric else "s.value_text"
    direction = "DESC" if sort.descending else "ASC"
    order = f"ORDER BY {column} {direction}, s.content_data_id {direction} LIMIT ? OFFSET ?"
    if by_sort_index:
        # CROSS JOIN keeps the sort field's index as the outer loop
        return (
            f"SELECT {_COLUMNS} FROM published_fields s CROSS JOIN published_nodes n "
            f"ON n.content_data_id = s.content_data_id {joins} "
            "JOIN routes r ON r.route_id = n.route_id "
            "WHERE s.field_id = ? AND s.datatype_id = ? AND s.locale = '' "
            f"AND n.datatype_id = ? {order}",
            [*params, sort.field_id, datatype_id, datatype_id],
        )
    return (
        f"SELECT {_COLUMNS} FROM published_nodes n {joins} "
        "JOIN published_fields s ON s.content_data_id = n.content_data_id "
        "AND s.field_id = ? AND s.locale = '' JOIN routes r ON r.route_id = n.route_id "
        f"WHERE n.datatype_id = ? {order}",
        [*params, sort.field_id, datatype_id],
    )


class PublishedRepository:
    """Reads the published index."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def count(self, datatype_id: str, filters: Sequence[Filter]) -> int:
        """How many published nodes of the datatype match every filter."""
        sql, params = _count_sql(datatype_id, filters)
        return int(self.db.scalar(sql, params))

    def page(
        self,
        datatype_id: str,
        filters: Sequence[Filter],
        sort: Sort | None,
        limit: int,
        offset: int,
        *,
        by_sort_index: bool = False,
    ) -> list[PublishedRow]:
        """One page of matching nodes in sort order (SQL order: empty values are smallest).

        ``by_sort_index`` walks the sort field's index and tests each node against the
        filters, stopping after the page: the fast plan when many nodes match. Otherwise the
        filters' indexes find the matches, which are then sorted: the fast plan when few do.
        Both give the same order.
        """
        sql, params = _page_sql(datatype_id, filters, sort, by_sort_index)
        rows = self.db.execute(sql, [*params, limit, offset])
        return [PublishedRow(*r) for r in rows]

    def plan(
        self, datatype_id: str, filters: Sequence[Filter], sort: Sort | None, by_sort_index: bool
    ) -> list[str]:
        """``EXPLAIN QUERY PLAN`` lines of :meth:`page`, for checks and benchmarks."""
        sql, params = _page_sql(datatype_id, filters, sort, by_sort_index)
        rows = self.db.execute(f"EXPLAIN QUERY PLAN {sql}", [*params, 20, 0])
        return [str(r[3]) for r in rows]

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
