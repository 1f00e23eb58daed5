"""The content tree (``content_data``) and its field values (``content_fields``).

Pointer primitives (:meth:`ContentRepository.unlink`, ``link_*``) each touch a constant
number of rows, whatever the number of siblings: appending finds the last child through the
partial index ``idx_content_last_child`` instead of walking the chain. They keep the four
pointers consistent but check nothing else; cycle checks, revisions and audit belong to
the content service. Call them inside ``db.transaction()``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from modulacms.core.models import ContentNode, ContentStatus, TrashEntry, maker_for
from modulacms.db.connection import Database, Row

NODE_COLUMNS = (
    "content_data_id",
    "parent_id",
    "first_child_id",
    "next_sibling_id",
    "prev_sibling_id",
    "root_id",
    "route_id",
    "datatype_id",
    "author_id",
    "status",
    "publish_at",
    "published_at",
    "published_by",
    "revision",
    "trashed_at",
    "date_created",
    "date_modified",
)
_NODE = ", ".join(NODE_COLUMNS)
_POINTERS = frozenset({"parent_id", "first_child_id", "next_sibling_id", "prev_sibling_id"})


_STATUS = {status.value: status for status in ContentStatus}
_make_node = maker_for(ContentNode, {9: _STATUS.__getitem__})


def node_from_row(row: Row) -> ContentNode:
    """A node from the 17 ``NODE_COLUMNS`` at the start of ``row`` (extra columns ignored)."""
    return _make_node(row[:17])


def node_row(node: ContentNode) -> dict[str, Any]:
    """The audit/hook representation of a node (every column, JSON-able)."""
    return {column: getattr(node, column) for column in NODE_COLUMNS} | {
        "status": node.status.value
    }


@dataclass(frozen=True, slots=True)
class ValueRow:
    """One stored field value."""

    content_field_id: str
    content_data_id: str
    field_id: str
    locale: str
    value: str | None


class ContentRepository:
    """SQL for ``content_data`` and ``content_fields``."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # reading ----------------------------------------------------------------------------

    def node(self, content_id: str) -> ContentNode | None:
        row = self.db.one(
            f"SELECT {_NODE} FROM content_data WHERE content_data_id = ?", (content_id,)
        )
        return None if row is None else node_from_row(row)

    def route_root(self, route_id: str) -> ContentNode | None:
        row = self.db.one(
            f"SELECT {_NODE} FROM content_data "
            "WHERE route_id = ? AND parent_id IS NULL AND trashed_at IS NULL",
            (route_id,),
        )
        return None if row is None else node_from_row(row)

    def route_nodes(self, route_id: str) -> list[Row]:
        """Query 1 of a route load: live nodes joined to their datatypes.

        Each row is the node columns followed by the datatype's columns.
        """
        node_columns = ", ".join(f"c.{c}" for c in NODE_COLUMNS)
        return self.db.execute(
            f"SELECT {node_columns}, d.datatype_id, d.name, d.label, d.description, d.author_id, "
            "d.date_created, d.date_modified "
            "FROM content_data c JOIN datatypes d ON d.datatype_id = c.datatype_id "
            "WHERE c.route_id = ? AND c.trashed_at IS NULL",
            (route_id,),
        )

    def route_values(self, route_id: str) -> list[Row]:
        """Query 3 of a route load: every value row of the route (node, field, locale, value)."""
        return self.db.execute(
            "SELECT content_data_id, field_id, locale, field_value FROM content_fields "
            "WHERE route_id = ?",
            (route_id,),
        )

    def route_locale_values(self, route_id: str, locale: str) -> list[Row]:
        """Query 3 of a route load: (content_data_id, field_id, value) of one locale."""
        return self.db.execute(
            "SELECT content_data_id, field_id, field_value FROM content_fields "
            "WHERE route_id = ? AND locale = ?",
            (route_id, locale),
        )

    def children_ids(self, parent_id: str) -> list[str]:
        """Live children in any order (for checks and healing, not for display)."""
        rows = self.db.execute(
            "SELECT content_data_id FROM content_data WHERE parent_id = ? AND trashed_at IS NULL",
            (parent_id,),
        )
        return [r[0] for r in rows]

    def children(self, parent_id: str) -> list[ContentNode]:
        """Live children in any order, in one query (callers order them by the chain)."""
        rows = self.db.execute(
            f"SELECT {_NODE} FROM content_data WHERE parent_id = ? AND trashed_at IS NULL",
            (parent_id,),
        )
        return [node_from_row(r) for r in rows]

    def last_child(self, parent_id: str, exclude: str) -> str | None:
        """The live child of ``parent_id`` that has no next sibling (other than ``exclude``)."""
        found = self.db.scalar(
            "SELECT content_data_id FROM content_data INDEXED BY idx_content_last_child "
            "WHERE parent_id = ? AND next_sibling_id IS NULL AND trashed_at IS NULL "
            "AND content_data_id != ? LIMIT 1",
            (parent_id, exclude),
        )
        return None if found is None else str(found)

    def subtree_ids(self, content_id: str, *, trashed: bool = False) -> list[str]:
        """The node and its descendants that share its state.

        With ``trashed=False``: the live subtree. With ``trashed=True``: the subtree that was
        trashed together with ``content_id``, leaving out nested subtrees trashed earlier.
        """
        condition = "c.trash_root = 0" if trashed else "c.trashed_at IS NULL"
        rows = self.db.execute(
            "WITH RECURSIVE sub(id) AS (SELECT ? UNION ALL "
            "SELECT c.content_data_id FROM content_data c JOIN sub ON c.parent_id = sub.id "
            f"WHERE {condition}) SELECT id FROM sub",
            (content_id,),
        )
        return [r[0] for r in rows]

    def trash_roots_of_route(self, route_id: str) -> list[tuple[str, str | None]]:
        """(id, parent id) of every trashed subtree of a route."""
        rows = self.db.execute(
            "SELECT content_data_id, parent_id FROM content_data "
            "WHERE route_id = ? AND trash_root = 1",
            (route_id,),
        )
        return [(r[0], r[1]) for r in rows]

    def is_trash_root(self, content_id: str) -> bool:
        found = self.db.one(
            "SELECT 1 FROM content_data WHERE content_data_id = ? AND trash_root = 1", (content_id,)
        )
        return found is not None

    def media_exists(self, media_id: str) -> bool:
        return self.db.one("SELECT 1 FROM media WHERE media_id = ?", (media_id,)) is not None

    def ancestor_ids(self, content_id: str) -> list[str]:
        """Parent, grandparent, ... up to the root (bounded against corrupt cycles)."""
        rows = self.db.execute(
            "WITH RECURSIVE up(id, depth) AS (SELECT parent_id, 1 FROM content_data "
            "WHERE content_data_id = ? UNION ALL SELECT c.parent_id, up.depth + 1 "
            "FROM content_data c JOIN up ON c.content_data_id = up.id WHERE up.depth < 10000) "
            "SELECT id FROM up WHERE id IS NOT NULL",
            (content_id,),
        )
        return [r[0] for r in rows]

    def values(self, content_id: str) -> list[ValueRow]:
        rows = self.db.execute(
            "SELECT content_field_id, content_data_id, field_id, locale, field_value "
            "FROM content_fields WHERE content_data_id = ?",
            (content_id,),
        )
        return [ValueRow(*r) for r in rows]

    def all_nodes(self, route_id: str | None = None) -> list[ContentNode]:
        """Every live node (of one route, or of the whole site), for healing."""
        if route_id is None:
            rows = self.db.execute(f"SELECT {_NODE} FROM content_data WHERE trashed_at IS NULL")
        else:
            rows = self.db.execute(
                f"SELECT {_NODE} FROM content_data WHERE route_id = ? AND trashed_at IS NULL",
                (route_id,),
            )
        return [node_from_row(r) for r in rows]

    def trash(self) -> list[TrashEntry]:
        rows = self.db.execute(
            "SELECT t.content_data_id, t.route_id, t.parent_id, t.datatype_id, "
            "(WITH RECURSIVE sub(id) AS (SELECT t.content_data_id UNION ALL "
            "SELECT c.content_data_id FROM content_data c JOIN sub ON c.parent_id = sub.id) "
            "SELECT count(*) FROM sub), t.trashed_at "
            "FROM content_data t WHERE t.trash_root = 1 ORDER BY t.trashed_at DESC"
        )
        return [TrashEntry(*r) for r in rows]

    def scheduled_due(self, moment: str) -> list[ContentNode]:
        rows = self.db.execute(
            f"SELECT {_NODE} FROM content_data INDEXED BY idx_content_scheduled "
            "WHERE status = 'scheduled' AND publish_at <= ? AND trashed_at IS NULL",
            (moment,),
        )
        return [node_from_row(r) for r in rows]

    # writing ----------------------------------------------------------------------------

    def insert_node(self, node: ContentNode) -> None:
        marks = ",".join("?" * len(NODE_COLUMNS))
        values = [getattr(node, c) for c in NODE_COLUMNS]
        values[9] = node.status.value
        self.db.connection().execute(f"INSERT INTO content_data ({_NODE}) VALUES ({marks})", values)

    def insert_last_child(self, node: ContentNode) -> ContentNode:
        """Insert a node as the last child of its ``parent_id`` with its pointers already set.

        Two statements besides the lookup of the current last child; returns the node as
        stored.
        """
        assert node.parent_id is not None
        last = self.last_child(node.parent_id, exclude=node.content_data_id)
        stored = replace(node, prev_sibling_id=last, next_sibling_id=None)
        self.insert_node(stored)
        if last is None:
            self._set(node.parent_id, first_child_id=node.content_data_id)
        else:
            self._set(last, next_sibling_id=node.content_data_id)
        return stored

    def set_columns(self, content_id: str, **columns: Any) -> None:
        """Update named columns of one node (names come from code, never from input)."""
        unknown = set(columns) - set(NODE_COLUMNS) - {"trash_root"}
        if unknown:
            raise ValueError(f"not content_data columns: {sorted(unknown)}")
        assignments = ", ".join(f"{name} = ?" for name in columns)
        self.db.connection().execute(
            f"UPDATE content_data SET {assignments} WHERE content_data_id = ?",
            [*columns.values(), content_id],
        )

    def bump_revision(self, content_id: str, expected: int, moment: str) -> bool:
        """Advance the revision if it is still ``expected``; False when someone got there first."""
        conn = self.db.connection()
        conn.execute(
            "UPDATE content_data SET revision = revision + 1, date_modified = ? "
            "WHERE content_data_id = ? AND revision = ?",
            (moment, content_id, expected),
        )
        return conn.changes() == 1

    def set_status_for_route(
        self,
        route_id: str,
        status: ContentStatus,
        published_at: str | None,
        published_by: str | None,
    ) -> None:
        self.db.connection().execute(
            "UPDATE content_data SET status = ?, published_at = ?, published_by = ?, "
            "publish_at = NULL WHERE route_id = ? AND trashed_at IS NULL",
            (status.value, published_at, published_by, route_id),
        )

    def move_to_route(self, ids: list[str], route_id: str, root_id: str) -> None:
        conn = self.db.connection()
        for content_id in ids:
            conn.execute(
                "UPDATE content_data SET route_id = ?, root_id = ? WHERE content_data_id = ?",
                (route_id, root_id, content_id),
            )
            conn.execute(
                "UPDATE content_fields SET route_id = ? WHERE content_data_id = ?",
                (route_id, content_id),
            )

    def set_trashed(self, ids: Iterable[str], moment: str | None) -> None:
        conn = self.db.connection()
        for content_id in ids:
            conn.execute(
                "UPDATE content_data SET trashed_at = ? WHERE content_data_id = ?",
                (moment, content_id),
            )

    def delete_node(self, content_id: str) -> None:
        """Delete a node; its descendants and values go with it (ON DELETE CASCADE)."""
        self.db.connection().execute(
            "DELETE FROM content_data WHERE content_data_id = ?", (content_id,)
        )

    def upsert_value(
        self, row: ValueRow, route_id: str, author_id: str | None, moment: str
    ) -> None:
        self.db.connection().execute(
            "INSERT INTO content_fields (content_field_id, content_data_id, field_id, locale, "
            "field_value, route_id, author_id, date_created, date_modified) "
            "VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT (content_data_id, field_id, locale) "
            "DO UPDATE SET field_value = excluded.field_value, author_id = excluded.author_id, "
            "date_modified = excluded.date_modified",
            (
                row.content_field_id,
                row.content_data_id,
                row.field_id,
                row.locale,
                row.value,
                route_id,
                author_id,
                moment,
                moment,
            ),
        )

    def insert_values(
        self, rows: list[ValueRow], route_id: str, author_id: str | None, moment: str
    ) -> None:
        self.db.connection().executemany(
            "INSERT INTO content_fields (content_field_id, content_data_id, field_id, locale, "
            "field_value, route_id, author_id, date_created, date_modified) "
            "VALUES (?,?,?,?,?,?,?,?,?)",
            [
                (
                    r.content_field_id,
                    r.content_data_id,
                    r.field_id,
                    r.locale,
                    r.value,
                    route_id,
                    author_id,
                    moment,
                    moment,
                )
                for r in rows
            ],
        )

    # pointer primitives ----------------------------------------------------------------

    def _pointers(self, content_id: str) -> tuple[str | None, str | None, str | None]:
        row = self.db.one(
            "SELECT parent_id, prev_sibling_id, next_sibling_id FROM content_data "
            "WHERE content_data_id = ?",
            (content_id,),
        )
        if row is None:
            raise LookupError(content_id)
        return row[0], row[1], row[2]

    def _set(self, content_id: str, **pointers: str | None) -> None:
        assert set(pointers) <= _POINTERS
        self.set_columns(content_id, **pointers)

    def unlink(self, content_id: str) -> None:
        """Take a node (with its subtree) out of its sibling chain; parent_id is kept."""
        parent, prev, nxt = self._pointers(content_id)
        if prev is not None:
            self._set(prev, next_sibling_id=nxt)
        elif parent is not None:
            self._set(parent, first_child_id=nxt)
        if nxt is not None:
            self._set(nxt, prev_sibling_id=prev)
        self._set(content_id, prev_sibling_id=None, next_sibling_id=None)

    def link_last_child(self, content_id: str, parent_id: str) -> None:
        """Make an unlinked node the last child of ``parent_id``."""
        last = self.last_child(parent_id, exclude=content_id)
        if last is None:
            self._set(parent_id, first_child_id=content_id)
        else:
            self._set(last, next_sibling_id=content_id)
        self._set(content_id, parent_id=parent_id, prev_sibling_id=last, next_sibling_id=None)

    def link_before(self, content_id: str, sibling_id: str) -> None:
        """Insert an unlinked node just before ``sibling_id``."""
        parent, prev, _ = self._pointers(sibling_id)
        if prev is not None:
            self._set(prev, next_sibling_id=content_id)
        elif parent is not None:
            self._set(parent, first_child_id=content_id)
        self._set(sibling_id, prev_sibling_id=content_id)
        self._set(content_id, parent_id=parent, prev_sibling_id=prev, next_sibling_id=sibling_id)

    def link_after(self, content_id: str, sibling_id: str) -> None:
        """Insert an unlinked node just after ``sibling_id``."""
        parent, _, nxt = self._pointers(sibling_id)
        if nxt is not None:
            self._set(nxt, prev_sibling_id=content_id)
        self._set(sibling_id, next_sibling_id=content_id)
        self._set(content_id, parent_id=parent, prev_sibling_id=sibling_id, next_sibling_id=nxt)

    def relink_children(self, parent_id: str, ordered: list[str]) -> None:
        """Rewrite the whole chain of ``parent_id`` in the given order (reorder, heal)."""
        self._set(parent_id, first_child_id=ordered[0] if ordered else None)
        for index, child in enumerate(ordered):
            self._set(
                child,
                parent_id=parent_id,
                prev_sibling_id=ordered[index - 1] if index else None,
                next_sibling_id=ordered[index + 1] if index + 1 < len(ordered) else None,
            )
