"""The route list of the Content area, filterable by slug or title."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, OptionList
from textual.widgets.option_list import Option

from modulacms.core.models import Route
from modulacms.tui.messages import RouteChosen


def route_prompt(route: Route, width: int) -> Text:
    """``● /slug`` on one line (green dot when published); long slugs lose their start."""
    text = Text(no_wrap=True)
    if route.is_published:
        text.append("● ", style="green")
    else:
        text.append("○ ", style="dim")
    room = max(width - 3, 6)
    slug = route.slug if len(route.slug) <= room else "…" + route.slug[-(room - 1) :]
    text.append(slug)
    return text


class RoutesList(Vertical):
    """Typing in the filter narrows the list; enter (or a click) opens a route."""

    DEFAULT_CSS = """
    RoutesList { height: 1fr; }
    RoutesList Input { margin-bottom: 0; }
    RoutesList OptionList { height: 1fr; border: none; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.routes: list[Route] = []
        self.current: str | None = None

    def compose(self) -> ComposeResult:
        yield Input(placeholder="/ filter routes", compact=True, id="route-filter")
        yield OptionList(id="route-options")

    def show(self, routes: list[Route], current: str | None = None) -> None:
        self.routes = routes
        if current is not None:
            self.current = current
        self._fill()

    def _fill(self) -> None:
        needle = self.query_one("#route-filter", Input).value.strip().lower()
        options = self.query_one("#route-options", OptionList)
        shown = [r for r in self.routes if needle in r.slug.lower() or needle in r.title.lower()]
        options.clear_options()
        width = options.scrollable_content_region.width or 18
        options.add_options(Option(route_prompt(r, width), id=r.route_id) for r in shown)
        for index, route in enumerate(shown):
            if route.route_id == self.current:
                options.highlighted = index
                break
        else:
            options.highlighted = 0 if shown else None

    def on_resize(self) -> None:
        self._fill()

    def find(self, route_id: str) -> Route | None:
        return next((r for r in self.routes if r.route_id == route_id), None)

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._fill()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        options = self.query_one("#route-options", OptionList)
        if options.option_count == 1 or options.highlighted is not None:
            options.focus()
            options.action_select()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        route = self.find(event.option.id or "")
        if route is not None:
            self.post_message(RouteChosen(route))

    def focus_filter(self) -> None:
        self.query_one("#route-filter", Input).focus()
