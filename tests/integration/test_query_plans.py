"""The store's hot queries are served by indexes, whatever the size of the site."""

from __future__ import annotations

import pytest

from modulacms.db.connection import Database

ID = "01ARZ3NDEKTSV4RRFFQ69G5FAV"

PLANS = [
    # route load, query 1: the nodes of a route
    (
        "SELECT c.content_data_id FROM content_data c JOIN datatypes d "
        "ON d.datatype_id = c.datatype_id WHERE c.route_id = ? AND c.trashed_at IS NULL",
        (ID,),
        "idx_content_route",
    ),
    # route load, query 3: the values of a route
    (
        "SELECT content_data_id, field_id, locale, field_value FROM content_fields "
        "WHERE route_id = ?",
        (ID,),
        "idx_content_fields_route",
    ),
    # O(1) append: the last live child of a parent
    (
        "SELECT content_data_id FROM content_data INDEXED BY idx_content_last_child "
        "WHERE parent_id = ? AND next_sibling_id IS NULL AND trashed_at IS NULL "
        "AND content_data_id != ? LIMIT 1",
        (ID, ID),
        "idx_content_last_child",
    ),
    # the root of a route
    (
        "SELECT content_data_id FROM content_data WHERE route_id = ? AND parent_id IS NULL "
        "AND trashed_at IS NULL",
        (ID,),
        "idx_content_route",
    ),
    # children of a node (move checks, reorder, heal)
    ("SELECT content_data_id FROM content_data WHERE parent_id = ?", (ID,), "idx_content_parent"),
    # the scheduler
    (
        "SELECT content_data_id FROM content_data INDEXED BY idx_content_scheduled "
        "WHERE status = 'scheduled' AND publish_at <= ? AND trashed_at IS NULL",
        ("2030",),
        "idx_content_scheduled",
    ),
    # audit history of one record
    (
        "SELECT event_id FROM change_events WHERE table_name = ? AND record_id = ?",
        ("content_data", ID),
        "idx_change_events_record",
    ),
    # versions of a route
    (
        "SELECT version FROM content_versions WHERE route_id = ? ORDER BY version DESC",
        (ID,),
        "sqlite_autoindex_content_versions_2",
    ),
    # a route by slug
    (
        "SELECT route_id FROM routes WHERE site_id = ? AND slug = ?",
        (ID, "/about"),
        "sqlite_autoindex_routes_2",
    ),
    # a datatype's fields in order
    (
        "SELECT field_id FROM datatypes_fields WHERE datatype_id = ? ORDER BY sort_order",
        (ID,),
        "PRIMARY KEY",
    ),
]


@pytest.mark.parametrize(("sql", "params", "index"), PLANS)
def test_query_uses_index(db: Database, sql: str, params: tuple, index: str) -> None:
    plan = " | ".join(str(row[3]) for row in db.execute(f"EXPLAIN QUERY PLAN {sql}", params))
    assert index in plan, plan
    assert "SCAN" not in plan.replace("SCAN CONSTANT ROW", ""), plan
