"""Pick a content node from any route (for reference fields)."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import Input, OptionList, Select, Static
from textual.widgets.option_list import Option

from modulacms.core.models import Route, RouteTree
from modulacms.tui.base import ServiceModal
from modulacms.tui.text import plain
from modulacms.tui.widgets.content.labels import node_title


class NodePicker(ServiceModal[str | None]):
    """Choose a route, then a node of it; ``datatype`` limits the nodes offered."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, title: str, *, datatype: str | None = None, route_id: str | None = None):
        super().__init__(classes="dialog")
        self.title_text, self.datatype, self.route_id = title, datatype, route_id
        self.choices: list[tuple[str, Text]] = []

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box tall"):
            yield Static(plain(self.title_text, "bold"), classes="dialog-title")
            if self.datatype:
                yield Static(
                    plain(f"Only {self.datatype} nodes are offered."), classes="dialog-body"
                )
            yield Select[str]([], prompt="route", id="picker-route", compact=True)
            yield Input(placeholder="type to filter", compact=True, id="picker-filter")
            yield OptionList(id="picker-options")

    def on_mount(self) -> None:
        self.call("routes", self.services.routes.list, self._routes)

    def _routes(self, routes: list[Route]) -> None:
        select = self.query_one("#picker-route", Select)
        select.set_options((r.slug, r.route_id) for r in routes)
        if routes:
            chosen = self.route_id if any(r.route_id == self.route_id for r in routes) else None
            select.value = chosen or routes[0].route_id
        self.query_one("#picker-filter", Input).focus()

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.value is not Select.NULL:
            route_id = str(event.value)
            self.call("tree", lambda: self.services.content.tree(route_id), self._tree)

    def _tree(self, tree: RouteTree) -> None:
        self.choices = []
        if tree.root is not None:
            for item in tree.root.walk():
                if self.datatype and item.datatype.name != self.datatype:
                    continue
                label = Text(node_title(item.fields, item.values), style="bold")
                label.append(f"  {item.datatype.label}", style="dim")
                self.choices.append((item.id, label))
        self._fill(self.query_one("#picker-filter", Input).value)

    def _fill(self, needle: str) -> None:
        options = self.query_one("#picker-options", OptionList)
        options.clear_options()
        needle = needle.strip().lower()
        options.add_options(
            Option(label, id=key) for key, label in self.choices if needle in label.plain.lower()
        )
        options.highlighted = 0 if options.option_count else None

    def on_input_changed(self, event: Input.Changed) -> None:
        self._fill(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        options = self.query_one("#picker-options", OptionList)
        if options.highlighted is not None:
            self.dismiss(options.get_option_at_index(options.highlighted).id)

    def on_key(self, event: events.Key) -> None:
        options = self.query_one("#picker-options", OptionList)
        if event.key in ("down", "up") and self.query_one("#picker-filter", Input).has_focus:
            if event.key == "down":
                options.action_cursor_down()
            else:
                options.action_cursor_up()
            event.stop()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)
