"""Assembling a route's tree in memory from the three flat queries of a route load.

Children are ordered by following ``first_child_id`` then ``next_sibling_id``. A broken
chain never loops or loses nodes here: children the chain does not reach are appended in
creation order (``heal`` repairs the stored pointers).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from modulacms.core.models import (
    ContentNode,
    Datatype,
    DatatypeField,
    Route,
    RouteTree,
    TreeNode,
    maker_for,
)

_make_tree_node = maker_for(TreeNode)


def ordered_children(parent: ContentNode, children: Sequence[ContentNode]) -> list[ContentNode]:
    """``children`` of ``parent`` in chain order, unreachable ones last by creation."""
    by_id = {c.content_data_id: c for c in children}
    ordered: list[ContentNode] = []
    seen: set[str] = set()
    current = parent.first_child_id
    while current is not None and current in by_id and current not in seen:
        seen.add(current)
        node = by_id[current]
        ordered.append(node)
        current = node.next_sibling_id
    if len(ordered) != len(children):
        rest = [c for c in children if c.content_data_id not in seen]
        ordered.extend(sorted(rest, key=lambda c: (c.date_created, c.content_data_id)))
    return ordered


def _node_values(
    node_list: list[tuple[ContentNode, Datatype]],
    names_of: Mapping[str, list[str]],
    field_name: Mapping[str, str],
    layers: Iterable[Iterable[tuple[str, str, str | None]]],
) -> dict[str, dict[str, str | None]]:
    """Node id -> {field name: value} for every node (None where nothing is stored).

    ``layers`` are (content_data_id, field_id, value) rows; a later layer (a locale) wins
    over an earlier one (the default locale).
    """
    result = {n.content_data_id: dict.fromkeys(names_of[d.datatype_id]) for n, d in node_list}
    for rows in layers:
        for content_id, field_id, value in rows:
            try:
                slot = result[content_id]
                name = field_name[field_id]
            except KeyError:
                continue  # a value of a trashed node, or of a field no longer attached
            if name in slot:
                slot[name] = value
    return result


def assemble(
    route: Route,
    nodes: Iterable[tuple[ContentNode, Datatype]],
    fields: Mapping[str, Sequence[DatatypeField]],
    values: Iterable[tuple[str, str, str | None]],
    localized: Iterable[tuple[str, str, str | None]] = (),
) -> RouteTree:
    """Build the tree of ``route``.

    ``nodes`` pairs each live node with its datatype; ``fields`` maps datatype id to its
    fields in order; ``values`` rows are (content_data_id, field_id, value) of the default
    locale and ``localized`` rows those of the requested locale, which win.
    """
    node_list = list(nodes)
    kids: dict[str | None, list[ContentNode]] = {}
    for node, _ in node_list:
        siblings = kids.get(node.parent_id)
        if siblings is None:
            kids[node.parent_id] = [node]
        else:
            siblings.append(node)
    datatype_of = {n.content_data_id: d for n, d in node_list}
    attached_of = {d: tuple(f) for d, f in fields.items()}
    field_name = {df.field.field_id: df.field.name for a in attached_of.values() for df in a}
    names_of = {d: [df.field.name for df in a] for d, a in attached_of.items()}
    for _, datatype in node_list:
        names_of.setdefault(datatype.datatype_id, [])
    node_values = _node_values(node_list, names_of, field_name, (values, localized))

    def build(node: ContentNode, depth: int) -> TreeNode:
        node_id = node.content_data_id
        datatype = datatype_of[node_id]
        children = kids.get(node_id)
        built: tuple[TreeNode, ...] = ()
        if children and depth < 1000:
            built = tuple([build(c, depth + 1) for c in ordered_children(node, children)])
        attached = attached_of.get(datatype.datatype_id, ())
        return _make_tree_node((node, datatype, attached, node_values[node_id], built))

    roots = kids.get(None, [])
    root = build(roots[0], 0) if roots else None
    return RouteTree(route=route, root=root, node_count=len(node_list))
