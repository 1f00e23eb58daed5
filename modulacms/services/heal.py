"""Checking and repairing the content tree's pointer chains.

The chain of a parent is what ``first_child_id`` and ``next_sibling_id`` reach. ``heal``
recomputes, for every parent, the order the chain gives (children it cannot reach go last,
by creation time), then compares every pointer with that order. It also reports nodes
whose ``route_id``/``root_id`` disagree with their parent's, live nodes under a trashed
parent, and routes with several roots. A dry run reports; a repair rewrites what differs
in one transaction.
"""

from __future__ import annotations

from collections import defaultdict

from modulacms.core.models import ContentNode, HealReport
from modulacms.core.tree import ordered_children
from modulacms.db.connection import Database
from modulacms.db.repositories.content import ContentRepository


def _chain_problems(
    parent: ContentNode, children: list[ContentNode]
) -> tuple[list[str], list[str]]:
    """(problems, wanted order) for one parent's children."""
    ordered = ordered_children(parent, children)
    ids = [c.content_data_id for c in ordered]
    problems = []
    expected_first = ids[0] if ids else None
    if parent.first_child_id != expected_first:
        problems.append(
            f"node {parent.content_data_id}: first_child_id is {parent.first_child_id}, "
            f"expected {expected_first}"
        )
    for index, child in enumerate(ordered):
        prev = ids[index - 1] if index else None
        nxt = ids[index + 1] if index + 1 < len(ids) else None
        if child.prev_sibling_id != prev:
            problems.append(
                f"node {child.content_data_id}: prev_sibling_id is {child.prev_sibling_id}, "
                f"expected {prev}"
            )
        if child.next_sibling_id != nxt:
            problems.append(
                f"node {child.content_data_id}: next_sibling_id is {child.next_sibling_id}, "
                f"expected {nxt}"
            )
    return problems, ids


def heal(db: Database, route_id: str | None = None, *, repair: bool = False) -> HealReport:
    """Report (and with ``repair`` fix) broken pointers of one route or the whole site."""
    repo = ContentRepository(db)
    with db.transaction():
        nodes = repo.all_nodes(route_id)
        by_id = {n.content_data_id: n for n in nodes}
        kids: dict[str, list[ContentNode]] = defaultdict(list)
        problems: list[str] = []
        fixes: list[tuple[str, list[str]]] = []
        roots: dict[str, list[ContentNode]] = defaultdict(list)
        for node in nodes:
            if node.parent_id is None:
                roots[node.route_id].append(node)
                if node.prev_sibling_id or node.next_sibling_id:
                    problems.append(f"root {node.content_data_id} has sibling pointers")
                    if repair:
                        repo.set_columns(
                            node.content_data_id, prev_sibling_id=None, next_sibling_id=None
                        )
                continue
            parent = by_id.get(node.parent_id) or repo.node(node.parent_id)
            if parent is None or parent.trashed_at is not None:
                problems.append(
                    f"node {node.content_data_id} is live under a missing or trashed parent"
                )
                if repair:
                    repo.set_trashed(
                        repo.subtree_ids(node.content_data_id),
                        parent.trashed_at if parent else None,
                    )
                continue
            if (node.route_id, node.root_id) != (parent.route_id, parent.root_id):
                problems.append(f"node {node.content_data_id}: route/root differ from its parent's")
                if repair:
                    repo.move_to_route([node.content_data_id], parent.route_id, parent.root_id)
            kids[node.parent_id].append(node)
        for route, route_roots in roots.items():
            if len(route_roots) > 1:
                problems.append(f"route {route} has {len(route_roots)} roots")
        for node in nodes:
            found, order = _chain_problems(node, kids.get(node.content_data_id, []))
            if found:
                problems.extend(found)
                fixes.append((node.content_data_id, order))
        if repair:
            for parent_id, order in fixes:
                repo.relink_children(parent_id, order)
    return HealReport(tuple(problems), repair and bool(problems), len(nodes))
