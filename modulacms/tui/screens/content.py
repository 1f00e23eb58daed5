"""The Content area: routes → tree → field editor, and every action on a route's tree.

Keys on the tree act on the node under the cursor (see ``ContentTree.BINDINGS``); the
editor follows the cursor while it has no unsaved changes, and anything that would
replace a dirty form asks first (save, discard or keep editing).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Static, Tree

from modulacms.core.models import (
    ContentItem,
    ContentNode,
    ContentVersion,
    Datatype,
    DatatypeField,
    Route,
    RouteTree,
)
from modulacms.errors import Conflict, ModulaError, ValidationFailed
from modulacms.tui.base import AreaScreen
from modulacms.tui.messages import FormChanged, RouteChosen
from modulacms.tui.modals.choice import unsaved_changes
from modulacms.tui.modals.confirm import ConfirmModal
from modulacms.tui.modals.conflict import ConflictModal
from modulacms.tui.modals.form import FormField, FormModal
from modulacms.tui.modals.pick import PickModal
from modulacms.tui.modals.preview import PreviewModal
from modulacms.tui.modals.trash import TrashModal
from modulacms.tui.modals.versions import VersionsModal
from modulacms.tui.text import plain
from modulacms.tui.widgets.area_bar import AreaBar
from modulacms.tui.widgets.content.field_editor import FieldEditor, NewNode
from modulacms.tui.widgets.content.labels import node_title
from modulacms.tui.widgets.content.routes_list import RoutesList
from modulacms.tui.widgets.content.tree import ContentTree

_NEEDS_ROUTE = {"add_child", "publish", "unpublish", "schedule", "versions", "preview", "trash"}
_NEEDS_NODE = {"insert_before", "insert_after", "move", "reorder", "delete", "edit"}


class ContentScreen(AreaScreen):
    AREA = "content"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save", tooltip="Save the open node"),
        Binding("ctrl+r", "revert", "Revert", show=False, tooltip="Drop unsaved changes"),
        Binding("escape", "focus_tree", "Tree"),
        Binding("slash", "filter_routes", "Filter routes", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.route: Route | None = None

    def compose(self) -> ComposeResult:
        yield AreaBar(self.AREA, self.modula.project_name)
        with Horizontal(id="content-body"):
            with Vertical(id="routes-pane", classes="pane"):
                yield Static("Routes", classes="pane-title")
                yield RoutesList(id="routes")
            with Vertical(id="tree-pane", classes="pane"):
                yield Static("Tree", id="tree-title", classes="pane-title")
                yield ContentTree(id="tree")
            yield FieldEditor(id="editor")
        yield Footer()

    @property
    def ctree(self) -> ContentTree:
        return self.query_one(ContentTree)

    @property
    def editor(self) -> FieldEditor:
        return self.query_one(FieldEditor)

    @property
    def routes_list(self) -> RoutesList:
        return self.query_one(RoutesList)

    def on_mount(self) -> None:
        self._start()

    def _start(self) -> None:
        """Load the routes, the home route's tree and its root's form in one round trip."""
        services = self.services

        def job() -> tuple[list[Route], RouteTree | None, ContentItem | None]:
            routes = services.routes.list()
            home = next((r for r in routes if r.slug == "/"), routes[0] if routes else None)
            if home is None:
                return routes, None, None
            tree, item = self._tree_and_root(home.route_id)
            return routes, tree, item

        async def loaded(result: tuple[list[Route], RouteTree | None, ContentItem | None]) -> None:
            routes, tree, item = result
            if tree is None:
                self.routes_list.show(routes)
                self._tree_title("No routes yet")
                self.ctree.placeholder("Create a route in Routes (F4) first.")
                return
            self.route = tree.route
            self.routes_list.show(routes, tree.route.route_id)
            await self._show_opened(tree, item, focus=True)

        self.call("routes", job, loaded)

    def _tree_and_root(self, route_id: str) -> tuple[RouteTree, ContentItem | None]:
        """(worker thread) A route's tree and its root node's form data."""
        tree = self.services.content.tree(route_id)
        item = self.services.content.item(tree.root.id) if tree.root is not None else None
        return tree, item

    async def _show_opened(self, tree: RouteTree, item: ContentItem | None, *, focus: bool) -> None:
        if self.route is None or tree.route.route_id != self.route.route_id:
            return
        if item is not None and not self.editor.dirty:
            await self.editor.edit(item)
        elif item is None and not self.editor.dirty:
            await self.editor.clear("This route is empty: press a on the tree to add its root.")
        self.show_tree(tree)
        if focus:
            self.ctree.focus()

    def refresh_area(self) -> None:
        self.load_routes(open_first=self.route is None, reload=True)

    def has_unsaved_changes(self) -> bool:
        return self.editor.dirty

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in _NEEDS_ROUTE and self.route is None:
            return None
        if action in _NEEDS_NODE and self.ctree.cursor_id is None:
            return None
        if action in ("save", "revert") and not self.editor.active:
            return None
        return True

    # routes -----------------------------------------------------------------------------

    def load_routes(self, *, open_first: bool = False, reload: bool = False) -> None:
        """Refresh the route list; ``reload`` also reloads the open route's tree."""

        def loaded(routes: list[Route]) -> None:
            current = self.route.route_id if self.route else None
            self.routes_list.show(routes, current)
            if self.route is not None:
                fresh = self.routes_list.find(self.route.route_id)
                if fresh is None:  # deleted elsewhere
                    self.route = None
                    self._tree_title("Tree")
                    self.ctree.placeholder("That route was deleted.")
                    if not self.editor.dirty:
                        self.run_worker(self.editor.clear("Choose a route."))
                else:
                    self.route = fresh
                    if reload:
                        self.reload_tree()
            if open_first and self.route is None and routes:
                home = next((r for r in routes if r.slug == "/"), routes[0])
                self.open_route(home, focus=True)
            elif not routes:
                self._tree_title("No routes yet")
                self.ctree.placeholder("Create a route in Routes (F4) first.")
            self.refresh_bindings()

        self.call("routes", self.services.routes.list, loaded)

    def on_route_chosen(self, message: RouteChosen) -> None:
        message.stop()
        if self.route is not None and message.route.route_id == self.route.route_id:
            self.ctree.focus()
            return
        self.leave_form(lambda: self.open_route(message.route, focus=True))

    def open_route(self, route: Route, *, focus: bool = False) -> None:
        self.route = route
        self.routes_list.current = route.route_id
        self._tree_title(f"{route.slug} (loading…)")

        async def loaded(result: tuple[RouteTree, ContentItem | None]) -> None:
            await self._show_opened(*result, focus=focus)

        route_id = route.route_id
        self.call("tree", lambda: self._tree_and_root(route_id), loaded)

    def reload_tree(
        self, cursor: str | None = None, then: Callable[[], object] | None = None
    ) -> None:
        if self.route is None:
            return
        route_id = self.route.route_id
        keep = cursor or self.ctree.cursor_id

        def loaded(tree: RouteTree) -> None:
            self.show_tree(tree, cursor=keep)
            if then is not None:
                then()

        self.call("tree", lambda: self.services.content.tree(route_id), loaded)

    def show_tree(self, tree: RouteTree, cursor: str | None = None) -> None:
        if self.route is None or tree.route.route_id != self.route.route_id:
            return  # the editor moved on to another route meanwhile
        self.route = tree.route
        expanded = self.ctree.expanded_ids() if self.ctree.route_tree else set()
        self.ctree.show(tree, expanded=expanded, cursor=cursor)
        state = "published" if tree.route.is_published else "not published"
        self._tree_title(f"{tree.route.slug} · {tree.node_count} nodes · {state}")
        self._sync_editor(tree)
        self.refresh_bindings()

    def _sync_editor(self, tree: RouteTree) -> None:
        """Bring the open node's status/revision up to date after the tree reloaded."""
        item = self.editor.item
        if item is None:
            if not self.editor.dirty and self.ctree.cursor_id:
                self.open_node(self.ctree.cursor_id)
            return
        fresh = self.ctree.item(item.node.content_data_id)
        if fresh is None:
            if not self.editor.dirty:
                self.run_worker(self.editor.clear("That node is no longer in this route."))
            return
        if fresh.node.revision == item.node.revision and fresh.fields == item.fields:
            self.editor.item = replace(item, node=fresh.node)
            self.editor.refresh_head()
        elif not self.editor.dirty:
            # changed elsewhere (values, or its datatype's fields): show the new state
            self.open_node(item.node.content_data_id)

    def _tree_title(self, text: str) -> None:
        self.query_one("#tree-title", Static).update(plain(text))

    # opening nodes ----------------------------------------------------------------------

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted[str]) -> None:
        content_id = event.node.data
        if not content_id or self.editor.dirty:
            return
        item = self.editor.item
        if item is None or item.node.content_data_id != content_id:
            self.open_node(content_id)
        self.refresh_bindings()

    def on_tree_node_selected(self, event: Tree.NodeSelected[str]) -> None:
        content_id = event.node.data
        if not content_id:
            return
        item = self.editor.item
        if item is not None and item.node.content_data_id == content_id:
            self.editor.focus_first()
            return
        self.leave_form(lambda: self.open_node(content_id, focus=True))

    def open_node(self, content_id: str, *, focus: bool = False) -> None:
        async def loaded(item: ContentItem) -> None:
            if self.editor.dirty:
                return  # the editor started typing elsewhere meanwhile
            await self.editor.edit(item)
            if focus:
                self.editor.focus_first()

        self.call("item", lambda: self.services.content.item(content_id), loaded)

    def leave_form(self, then: Callable[[], object]) -> None:
        """Run ``then`` now, or once the editor has saved or discarded their changes."""
        if not self.editor.dirty:
            then()
            return
        what = "This node"
        if self.editor.item is not None:
            what = node_title(self.editor.item.fields, self.editor.item.values)
        elif self.editor.new is not None:
            what = f"The new {self.editor.new.datatype.label}"

        def answered(choice: str | None) -> None:
            if choice == "save":
                self.action_save(after=then)
            elif choice == "discard":
                self.editor.revert()
                if self.editor.new is not None:
                    self.run_worker(self.editor.clear("Choose a node in the tree."))
                then()
            else:
                self.editor.focus_first()

        self.app.push_screen(unsaved_changes(what), answered)

    def on_form_changed(self, message: FormChanged) -> None:
        self.refresh_bindings()

    # saving -----------------------------------------------------------------------------

    def action_save(self, after: Callable[[], object] | None = None) -> None:
        editor = self.editor
        if editor.new is not None:
            self._create(editor.new, after)
        elif editor.item is not None:
            if not editor.dirty:
                self.notify("Nothing to save")
                if after is not None:
                    after()
                return
            self._update(editor.item, after)

    def _update(self, item: ContentItem, after: Callable[[], object] | None) -> None:
        content, actor = self.services.content, self.actor
        content_id, revision = item.node.content_data_id, item.node.revision
        values = self.editor.changed_values()

        def job() -> ContentItem:
            content.update(content_id, values, revision, actor)
            return content.item(content_id)

        def saved(fresh: ContentItem) -> None:
            self.editor.accept(fresh)
            tree_item = self.ctree.item(content_id)
            if tree_item is not None:
                self.ctree.relabel(replace(tree_item, node=fresh.node, values=fresh.values))
            self.notify(f"Saved {node_title(fresh.fields, fresh.values)}")
            if after is not None:
                after()

        def failed(error: ModulaError) -> bool:
            if isinstance(error, Conflict) and isinstance(error.details, dict):
                if "current_revision" in error.details:
                    self._conflict(item, after)
                    return True
            return self._invalid(error)

        self.call("save", job, saved, failed, write=True)

    def _invalid(self, error: ModulaError) -> bool:
        if not isinstance(error, ValidationFailed):
            return False
        unplaced = self.editor.show_errors(error.errors)
        extra = "; ".join(f"{e.field}: {e.message}" for e in unplaced)
        self.notify(
            "Not saved: fix the marked fields" + (f" ({extra})" if extra else ""),
            title="Invalid input",
            severity="warning",
        )
        return True

    def _create(self, new: NewNode, after: Callable[[], object] | None) -> None:
        content, actor = self.services.content, self.actor
        values = self.editor.filled_values()

        def job() -> ContentItem:
            created = content.create(
                new.route_id,
                new.datatype.datatype_id,
                values,
                actor,
                parent_id=new.parent_id,
                before=new.before,
                after=new.after,
            )
            return content.item(created.content_data_id)

        async def created(item: ContentItem) -> None:
            await self.editor.edit(item)
            self.notify(f"Created {node_title(item.fields, item.values)}")
            self.reload_tree(cursor=item.node.content_data_id, then=after)

        self.call("create", job, created, self._invalid, write=True)

    def _conflict(self, mine: ContentItem, after: Callable[[], object] | None) -> None:
        content_id = mine.node.content_data_id

        def compare(theirs: ContentItem) -> None:
            texts = self.editor.texts()
            rows = []
            for widget in self.editor.inputs():
                their_text = widget.shown(theirs.values.get(widget.name_))
                if texts[widget.name_] != their_text:
                    rows.append((widget.df.field.label, texts[widget.name_], their_text))

            def chose(choice: str | None) -> None:
                if choice == "mine":
                    self.editor.item = replace(mine, node=theirs.node)
                    self._update(self.editor.item, after)
                elif choice == "theirs":
                    self.run_worker(self.editor.edit(theirs))
                    self.notify("Loaded their version; your edits were dropped")
                else:
                    self.notify("Not saved: your edits are still in the form", severity="warning")

            title = node_title(theirs.fields, theirs.values)
            self.app.push_screen(
                ConflictModal(title, rows, mine.node.revision, theirs.node.revision), chose
            )

        self.call("item", lambda: self.services.content.item(content_id), compare)

    def action_revert(self) -> None:
        if self.editor.dirty:
            self.editor.revert()
            self.notify("Changes dropped")

    # creating ---------------------------------------------------------------------------

    def action_add_child(self) -> None:
        self._start_new("child")

    def action_insert_before(self) -> None:
        self._start_new("before")

    def action_insert_after(self) -> None:
        self._start_new("after")

    def _start_new(self, where: str) -> None:
        route, anchor = self.route, self.ctree.cursor_id
        if route is None:
            return
        if where != "child" and (anchor is None or self.ctree.parent_of(anchor) is None):
            self.notify("The root has no siblings: add a child instead", severity="warning")
            return
        self.leave_form(lambda: self._pick_datatype(route, where, anchor))

    def _pick_datatype(self, route: Route, where: str, anchor: str | None) -> None:
        schema = self.services.schema

        def picked_from(datatypes: list[Datatype]) -> None:
            if not datatypes:
                self.notify("No datatypes yet: create one in Schema (F3)", severity="warning")
                return
            items = [(d.datatype_id, f"{d.label}  [{d.name}]") for d in datatypes]

            def chosen(datatype_id: str | None) -> None:
                dt = next((d for d in datatypes if d.datatype_id == datatype_id), None)
                if dt is not None:
                    self._new_form(route, dt, where, anchor)

            self.app.push_screen(PickModal("Datatype of the new node", items), chosen)

        self.call("datatypes", schema.datatypes, picked_from)

    def _new_form(self, route: Route, datatype: Datatype, where: str, anchor: str | None) -> None:
        anchor_item = self.ctree.item(anchor) if anchor else None
        anchor_title = node_title(anchor_item.fields, anchor_item.values) if anchor_item else ""
        if anchor is None:
            new_where, position = "as the root of the route", {}
        elif where == "child":
            new_where, position = f"under {anchor_title}", {"parent_id": anchor}
        else:
            new_where, position = f"{where} {anchor_title}", {where: anchor}
        datatype_id = datatype.datatype_id

        async def show(fields: list[DatatypeField]) -> None:
            new = NewNode(route.route_id, datatype, tuple(fields), new_where, **position)
            await self.editor.create(new)
            if not self.editor.focus_first():
                self.notify("No fields to fill in: press ctrl+s to create the node")
            self.refresh_bindings()

        self.call("fields", lambda: self.services.schema.fields_of(datatype_id), show)

    # arranging --------------------------------------------------------------------------

    def action_move(self) -> None:
        content_id = self.ctree.cursor_id
        tree = self.ctree.route_tree
        if content_id is None or tree is None or tree.root is None:
            return
        if self.ctree.parent_of(content_id) is None:
            self.notify("The root cannot move; move its children instead", severity="warning")
            return
        moving = self.ctree.item(content_id)
        assert moving is not None
        excluded = {n.id for n in moving.walk()}
        items = []
        for node in tree.root.walk():
            if node.id in excluded:
                continue
            depth = len(self.ctree.path_to(node.id)) - 1
            title = node_title(node.fields, node.values)
            items.append((node.id, f"{'  ' * depth}{title}  ({node.datatype.label})"))

        def chosen(parent_id: str | None) -> None:
            if parent_id:
                self._arrange(content_id, "Moved", parent_id=parent_id)

        title = node_title(moving.fields, moving.values)
        self.app.push_screen(
            PickModal(f"Move {title} under…", items, hint="It becomes the last child."), chosen
        )

    def action_reorder(self, delta: int) -> None:
        content_id = self.ctree.cursor_id
        if content_id is None:
            return
        siblings = self.ctree.siblings_of(content_id)
        index = siblings.index(content_id) + delta
        if self.ctree.parent_of(content_id) is None or not 0 <= index < len(siblings):
            self.app.bell()
            return
        if delta < 0:
            self._arrange(content_id, "", before=siblings[index])
        else:
            self._arrange(content_id, "", after=siblings[index])

    def _arrange(self, content_id: str, verb: str, **where: str) -> None:
        content, actor = self.services.content, self.actor

        def moved(node: ContentNode) -> None:
            item = self.editor.item
            if item is not None and item.node.content_data_id == content_id:
                self.editor.item = replace(item, node=node)
                self.editor.refresh_head()
            if verb:
                self.notify(verb)
            self.reload_tree(cursor=content_id)

        self.call("move", lambda: content.move(content_id, actor, **where), moved, write=True)

    # deleting ---------------------------------------------------------------------------

    def action_delete(self) -> None:
        content_id = self.ctree.cursor_id
        item = self.ctree.item(content_id) if content_id else None
        if content_id is None or item is None:
            return
        below = sum(1 for _ in item.walk()) - 1
        title = node_title(item.fields, item.values)
        message = f"Move {title}" + (f" and the {below} node(s) below it" if below else "")
        message += " to the trash? You can restore it from the trash (t)."
        open_item = self.editor.item
        if self.editor.dirty and open_item is not None:
            if open_item.node.content_data_id in {n.id for n in item.walk()}:
                message += "\nThe unsaved changes in the editor will be dropped."
        siblings = self.ctree.siblings_of(content_id)
        index = siblings.index(content_id)
        rest = siblings[:index] + siblings[index + 1 :]
        next_cursor = rest[min(index, len(rest) - 1)] if rest else self.ctree.parent_of(content_id)
        content, actor = self.services.content, self.actor

        def deleted(count: int) -> None:
            open_item = self.editor.item
            if open_item is not None and open_item.node.content_data_id in {
                n.id for n in item.walk()
            }:
                self.editor.revert()
                self.run_worker(self.editor.clear("Deleted. Press t to see the trash."))
            self.notify(f"Moved {count} node(s) to the trash")
            self.reload_tree(cursor=next_cursor)

        def answered(yes: bool | None) -> None:
            if yes:
                self.call("delete", lambda: content.delete(content_id, actor), deleted, write=True)

        self.app.push_screen(
            ConfirmModal("Delete", message, yes="Move to trash", danger=True), answered
        )

    def action_trash(self) -> None:
        if self.route is None:
            return

        def restored(content_id: str | None) -> None:
            if content_id:
                self.notify("Restored from the trash")
                self.reload_tree(cursor=content_id)

        self.app.push_screen(TrashModal(self.route), restored)

    # publishing -------------------------------------------------------------------------

    def action_publish(self) -> None:
        route = self.route
        if route is None:
            return
        note = "\nUnsaved changes in the editor are not included." if self.editor.dirty else ""
        publishing, actor = self.services.publishing, self.actor

        def published(version: ContentVersion) -> None:
            self.notify(f"Published {route.slug} as version {version.version}")
            self.load_routes()
            self.reload_tree()

        def answered(yes: bool | None) -> None:
            if yes:
                self.call(
                    "publish",
                    lambda: publishing.publish(route.route_id, actor),
                    published,
                    write=True,
                )

        self.app.push_screen(
            ConfirmModal(
                "Publish", f"Publish the draft of {route.slug} to the site?{note}", yes="Publish"
            ),
            answered,
        )

    def action_unpublish(self) -> None:
        route = self.route
        if route is None:
            return
        publishing, actor = self.services.publishing, self.actor

        def done(_: Route) -> None:
            self.notify(f"{route.slug} is no longer published")
            self.load_routes()
            self.reload_tree()

        def answered(yes: bool | None) -> None:
            if yes:
                self.call(
                    "unpublish",
                    lambda: publishing.unpublish(route.route_id, actor),
                    done,
                    write=True,
                )

        self.app.push_screen(
            ConfirmModal(
                "Unpublish",
                f"Stop serving {route.slug}? Its versions are kept.",
                yes="Unpublish",
                danger=True,
            ),
            answered,
        )

    def action_schedule(self) -> None:
        route = self.route
        if route is None:
            return
        soon = (datetime.now(UTC) + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
        default = soon.strftime("%Y-%m-%dT%H:%M:%SZ")
        publishing, actor = self.services.publishing, self.actor

        def submit(values: dict[str, Any]) -> ContentNode:
            return publishing.schedule(route.route_id, str(values["publish_at"]), actor)

        def scheduled(node: ContentNode | None) -> None:
            if node is not None:
                self.notify(f"{route.slug} will be published at {node.publish_at}")
                self.reload_tree()

        form = FormModal(
            f"Schedule {route.slug}",
            [FormField("publish_at", "Publish at (UTC)", value=default)],
            submit,
            submit_label="Schedule",
            intro="The server publishes the draft as it is at that time.",
        )
        self.app.push_screen(form, scheduled)

    def action_versions(self) -> None:
        route = self.route
        if route is None:
            return

        def restored(number: int | None) -> None:
            if number is not None:
                self.notify(f"Restored version {number} into the draft")
                self.load_routes()
                self.reload_tree()
                item = self.editor.item
                if item is not None:
                    self.open_node(item.node.content_data_id)

        self.leave_form(lambda: self.app.push_screen(VersionsModal(route), restored))

    def action_preview(self) -> None:
        if self.route is None:
            return
        if self.editor.dirty:
            self.notify("The preview shows the saved draft, without your unsaved changes")
        self.app.push_screen(PreviewModal(self.route))

    # focus ------------------------------------------------------------------------------

    def action_reload(self) -> None:
        self.load_routes()
        self.reload_tree()

    def action_edit(self) -> None:
        if not self.editor.focus_first():
            self.notify("Nothing to edit here")

    def action_focus_tree(self) -> None:
        self.ctree.focus()

    def action_filter_routes(self) -> None:
        self.routes_list.focus_filter()
