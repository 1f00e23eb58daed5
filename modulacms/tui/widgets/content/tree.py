"""The content tree of one route: lazy, so that a 2,000-node route opens at once."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.widgets import Tree
from textual.widgets.tree import TreeNode as UiNode

from modulacms.core.models import RouteTree, TreeNode
from modulacms.tui.widgets.content.labels import node_label, node_title

EMPTY = ""
"""Data of the placeholder line shown for a route without content."""


class ContentTree(Tree[str]):
    """Shows a ``RouteTree``; each line's data is its content id.

    Children are added to the widget only when their parent is first expanded, so the
    cost of showing a route is the number of visible lines, not of nodes. The keys act on
    the node under the cursor through the screen's actions.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "screen.add_child", "Add child", tooltip="Add a child of a chosen type"),
        Binding("o", "screen.insert_after", "Insert after", show=False),
        Binding("O", "screen.insert_before", "Insert before", show=False),
        Binding("m", "screen.move", "Move", show=False, tooltip="Move under a new parent"),
        Binding("shift+up,K", "screen.reorder(-1)", "Move up", show=False),
        Binding("shift+down,J", "screen.reorder(1)", "Move down", show=False),
        Binding("d,delete", "screen.delete", "Delete"),
        Binding("t", "screen.trash", "Trash", show=False),
        Binding("p", "screen.publish", "Publish"),
        Binding("u", "screen.unpublish", "Unpublish", show=False),
        Binding("S", "screen.schedule", "Schedule", show=False),
        Binding("v", "screen.versions", "Versions", show=False),
        Binding("j", "screen.preview", "JSON", tooltip="Preview the delivered JSON"),
        Binding("r", "screen.reload", "Reload", show=False),
        Binding("e", "screen.edit", "Edit", show=False, tooltip="Focus the field editor"),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", data=EMPTY, id=id)
        self.guide_depth = 2
        self.auto_expand = False
        self._items: dict[str, TreeNode] = {}
        self._parents: dict[str, str | None] = {}
        self._ui: dict[str, UiNode[str]] = {}
        self.route_tree: RouteTree | None = None

    # showing ----------------------------------------------------------------------------

    def show(
        self, tree: RouteTree, *, expanded: set[str] | None = None, cursor: str | None = None
    ) -> None:
        """Replace what is shown by ``tree``, re-opening ``expanded`` ids, cursor on ``cursor``."""
        self.route_tree = tree
        self._items.clear()
        self._parents.clear()
        self._ui.clear()
        if tree.root is None:
            self.reset(Text("(empty route: press a to add its first node)", style="dim"), EMPTY)
            self.root.allow_expand = False
            return
        stack: list[tuple[TreeNode, str | None]] = [(tree.root, None)]
        while stack:
            item, parent = stack.pop()
            self._items[item.id] = item
            self._parents[item.id] = parent
            stack.extend((child, item.id) for child in item.children)
        self.reset(self._label(tree.root), tree.root.id)
        self._ui[tree.root.id] = self.root
        self.root.allow_expand = bool(tree.root.children)
        self._fill(self.root)
        self.root.expand()
        for content_id in self._in_tree_order(expanded or set()):
            ui = self._ui.get(content_id)
            if ui is not None:
                self._fill(ui)
                ui.expand()
        self.focus_id(cursor or tree.root.id)

    def placeholder(self, text: str) -> None:
        """Show ``text`` instead of a route's tree."""
        self.route_tree = None
        self._items.clear()
        self._parents.clear()
        self._ui.clear()
        self.reset(Text(text, style="dim"), EMPTY)
        self.root.allow_expand = False

    def _in_tree_order(self, ids: set[str]) -> list[str]:
        """Ids sorted parents first, so expanding them fills the widget top-down."""
        return sorted((i for i in ids if i in self._items), key=lambda i: len(self.path_to(i)))

    def _label(self, item: TreeNode) -> Text:
        title = node_title(item.fields, item.values)
        return node_label(item.datatype.label or item.datatype.name, title, item.node.status)

    def _fill(self, ui: UiNode[str]) -> None:
        """Add the widget lines of ``ui``'s children once."""
        content_id = ui.data
        if not content_id or ui.children or content_id not in self._items:
            return
        for child in self._items[content_id].children:
            added = ui.add(self._label(child), data=child.id, allow_expand=bool(child.children))
            self._ui[child.id] = added

    def _on_tree_node_expanded(self, event: Tree.NodeExpanded[str]) -> None:
        self._fill(event.node)

    # lookups ----------------------------------------------------------------------------

    @property
    def cursor_id(self) -> str | None:
        """The content id under the cursor (None on an empty route)."""
        node = self.cursor_node
        return node.data if node is not None and node.data else None

    def item(self, content_id: str) -> TreeNode | None:
        return self._items.get(content_id)

    def parent_of(self, content_id: str) -> str | None:
        return self._parents.get(content_id)

    def path_to(self, content_id: str) -> list[str]:
        """Ids from the root down to ``content_id`` (inclusive)."""
        path = []
        current: str | None = content_id
        while current is not None:
            path.append(current)
            current = self._parents.get(current)
        return path[::-1]

    def expanded_ids(self) -> set[str]:
        return {cid for cid, ui in self._ui.items() if ui.is_expanded}

    def siblings_of(self, content_id: str) -> list[str]:
        parent = self._parents.get(content_id)
        if parent is None:
            return [content_id]
        return [child.id for child in self._items[parent].children]

    def focus_id(self, content_id: str) -> bool:
        """Expand the way to ``content_id`` and put the cursor on it."""
        if content_id not in self._items:
            return False
        for ancestor in self.path_to(content_id)[:-1]:
            ui = self._ui[ancestor]
            self._fill(ui)
            ui.expand()
        target = self._ui.get(content_id)
        if target is None:
            return False
        # line numbers are assigned when the widget rebuilds its lines, which it would
        # otherwise do only on idle; rebuild now so the cursor lands on the right line
        self._tree_lines  # noqa: B018
        self.move_cursor(target)
        return True

    def relabel(self, item: TreeNode) -> None:
        """Refresh one line after its node changed (title or status)."""
        self._items[item.id] = item
        ui = self._ui.get(item.id)
        if ui is not None:
            ui.set_label(self._label(item))
