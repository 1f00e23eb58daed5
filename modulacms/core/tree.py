"""Assembling a route's tree in memory from the three flat queries of a route load.

Children are ordered by following ``first_child_id`` then ``next_sibling_id``. A broken
chain never loops or loses nodes here: children the chain does not reach are appended in
creation order (``heal`` repairs the stored pointers).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from modulacms.core.models import ContentNode, Datatype, DatatypeField, Route, RouteTree, TreeNode


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


def assemble(
    route: Route,
    nodes: Iterable[tuple[ContentNode, Datatype]],
    fields: Mapping[str, Sequence[DatatypeField]],
    values: Iterable[tuple[str, str, str, str | None]],
    locale: str = "",
) -> RouteTree:
    """Build the tree of ``route``.

    ``nodes`` pairs each live node with its datatype; ``fields`` maps datatype id to its
    fields in order; ``values`` rows are (content_data_id, field_id, locale, value). Values
    of ``locale`` win over the default locale ``""``.
    """
    node_list = list(nodes)
    datatype_of = {n.content_data_id: d for n, d in node_list}
    kids: dict[str | None, list[ContentNode]] = {}
    for node, _ in node_list:
        kids.setdefault(node.parent_id, []).append(node)
    field_name: dict[str, str] = {}
    for attached in fields.values():
        for df in attached:
            field_name[df.field.field_id] = df.field.name
    chosen: dict[str, dict[str, tuple[bool, str | None]]] = {}
    for content_id, field_id, value_locale, value in values:
        if content_id not in datatype_of or field_id not in field_name:
            continue
        if value_locale not in ("", locale):
            continue
        slot = chosen.setdefault(content_id, {})
        name = field_name[field_id]
        exact = value_locale == locale
        if name not in slot or (exact and not slot[name][0]):
            slot[name] = (exact, value)

    def build(node: ContentNode, depth: int) -> TreeNode:
        datatype = datatype_of[node.content_data_id]
        attached = tuple(fields.get(datatype.datatype_id, ()))
        stored = chosen.get(node.content_data_id, {})
        node_values = {
            df.field.name: stored.get(df.field.name, (False, None))[1] for df in attached
        }
        children = kids.get(node.content_data_id, []) if depth < 1000 else []
        return TreeNode(
            node=node,
            datatype=datatype,
            fields=attached,
            values=node_values,
            children=tuple(build(c, depth + 1) for c in ordered_children(node, children)),
        )

    roots = kids.get(None, [])
    root = build(roots[0], 0) if roots else None
    return RouteTree(route=route, root=root, node_count=len(node_list))
