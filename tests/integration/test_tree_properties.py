"""Any sequence of tree operations leaves a consistent tree (hypothesis).

A plain Python model (ordered child lists) runs the same operations; after each sequence
the stored pointers must agree with each other and with the model: parent, first child,
next and previous siblings, no cycles, every live node reachable from the root, sibling
order equal to the model's, and ``heal`` finding nothing.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modulacms.core.models import Actor
from modulacms.db.connection import Database
from modulacms.db.migrate import migrate
from modulacms.errors import Conflict
from modulacms.services.registry import Services, build_services

OPS = ("append", "before", "after", "move_under", "move_before", "delete", "restore", "reorder")


class Model:
    def __init__(self, root: str) -> None:
        self.root = root
        self.children: dict[str, list[str]] = {root: []}
        self.parent: dict[str, str | None] = {root: None}
        self.trash: list[str] = []

    def live(self) -> list[str]:
        out, stack = [], [self.root]
        while stack:
            node = stack.pop()
            out.append(node)
            stack.extend(reversed(self.children[node]))
        return out

    def subtree(self, node: str) -> set[str]:
        out, stack = set(), [node]
        while stack:
            current = stack.pop()
            out.add(current)
            stack.extend(self.children[current])
        return out

    def detach(self, node: str) -> None:
        self.children[self.parent[node] or ""].remove(node)

    def place(self, node: str, parent: str, index: int | None = None) -> None:
        self.parent[node] = parent
        siblings = self.children[parent]
        siblings.insert(len(siblings) if index is None else index, node)


def pick(items: list[str], n: int) -> str:
    return items[n % len(items)]


def apply(services: Services, model: Model, actor: Actor, op: str, a: int, b: int) -> None:
    content = services.content
    live = model.live()
    non_root = [n for n in live if n != model.root]
    if op == "append":
        parent = pick(live, a)
        new = content.create("/", "page", {}, actor, parent_id=parent).content_data_id
        model.children[new] = []
        model.place(new, parent)
    elif op in ("before", "after") and non_root:
        sibling = pick(non_root, a)
        new = content.create("/", "page", {}, actor, **{op: sibling}).content_data_id
        model.children[new] = []
        parent = model.parent[sibling]
        assert parent is not None
        index = model.children[parent].index(sibling) + (op == "after")
        model.place(new, parent, index)
    elif op == "move_under" and non_root:
        node, target = pick(non_root, a), pick(live, b)
        if target in model.subtree(node):
            try:
                content.move(node, actor, parent_id=target)
            except Conflict:
                return
            raise AssertionError("a move into its own subtree was accepted")
        content.move(node, actor, parent_id=target)
        model.detach(node)
        model.place(node, target)
    elif op == "move_before" and len(non_root) > 1:
        node, target = pick(non_root, a), pick(non_root, b)
        if target in model.subtree(node):
            return
        content.move(node, actor, before=target)
        model.detach(node)
        parent = model.parent[target]
        assert parent is not None
        model.place(node, parent, model.children[parent].index(target))
    elif op == "delete" and non_root:
        node = pick(non_root, a)
        content.delete(node, actor)
        model.detach(node)
        model.trash.append(node)
    elif op == "restore" and model.trash:
        node = pick(model.trash, a)
        parent = model.parent[node]
        assert parent is not None
        if parent not in model.live():
            return
        content.restore(node, actor)
        model.trash.remove(node)
        model.place(node, parent)
    elif op == "reorder":
        parent = pick(live, a)
        kids = list(model.children[parent])
        if len(kids) > 1:
            shift = b % len(kids)
            kids = kids[shift:] + kids[:shift]
            content.reorder(parent, kids, actor)
            model.children[parent] = kids


def check(db: Database, services: Services, model: Model, actor: Actor) -> None:
    rows = db.execute(
        "SELECT content_data_id, parent_id, first_child_id, next_sibling_id, prev_sibling_id "
        "FROM content_data WHERE trashed_at IS NULL"
    )
    stored = {r[0]: r for r in rows}
    assert set(stored) == set(model.live())
    for node in model.live():
        _, parent, first, _, _ = stored[node]
        assert parent == model.parent[node]
        kids = model.children[node]
        assert first == (kids[0] if kids else None)
        for index, kid in enumerate(kids):
            assert stored[kid][4] == (kids[index - 1] if index else None)
            assert stored[kid][3] == (kids[index + 1] if index + 1 < len(kids) else None)
    tree = services.content.tree("/")
    assert tree.root is not None
    walked = [n.id for n in tree.root.walk()]
    assert walked == model.live() and len(set(walked)) == len(walked)
    assert services.content.heal(actor).problems == ()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(st.sampled_from(OPS), st.integers(0, 10**6), st.integers(0, 10**6)),
        min_size=1,
        max_size=30,
    )
)
def test_random_operation_sequences_keep_the_tree_consistent(
    steps: list[tuple[str, int, int]],
) -> None:
    actor = Actor.system()
    with tempfile.TemporaryDirectory() as folder:
        db = Database(Path(folder) / "tree.db")
        try:
            migrate(db)
            services = build_services(db)
            services.routes.ensure_default_site()
            services.schema.create_datatype("page", actor)
            services.routes.create("/", actor)
            model = Model(services.content.create("/", "page", {}, actor).content_data_id)
            for op, a, b in steps:
                apply(services, model, actor, op, a, b)
            check(db, services, model, actor)
        finally:
            db.close()
