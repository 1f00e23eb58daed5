"""The JSON a frontend receives for a route: the draft (preview) or the published version."""

from __future__ import annotations

import json
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Select, Static, TextArea

from modulacms.core.models import Route
from modulacms.tui.base import ServiceModal

FORMATS = ("clean", "raw", "contentful", "sanity", "strapi", "wordpress")


class PreviewModal(ServiceModal[None]):
    """Renders through the same delivery renderers as the HTTP API."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss(None)", "Close"),
        Binding("ctrl+t", "toggle_source", "Draft/published"),
    ]

    def __init__(self, route: Route) -> None:
        super().__init__(classes="dialog")
        self.route = route
        self.published = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box tall wide"):
            yield Static(f"[b]Delivered JSON of {self.route.slug}[/b]", classes="dialog-title")
            with Horizontal(classes="preview-bar"):
                yield Select(
                    [(f, f) for f in FORMATS],
                    value="clean",
                    allow_blank=False,
                    id="preview-format",
                    compact=True,
                )
                yield Static("", id="preview-source")
            yield TextArea("", read_only=True, id="preview-text", soft_wrap=False)

    def on_mount(self) -> None:
        self.render_json()

    def on_select_changed(self, event: Select.Changed) -> None:
        self.render_json()

    def action_toggle_source(self) -> None:
        self.published = not self.published
        self.render_json()

    def render_json(self) -> None:
        chosen = self.query_one("#preview-format", Select).value
        fmt = "clean" if chosen is Select.NULL else str(chosen)
        source = "published version" if self.published else "draft (preview)"
        self.query_one("#preview-source", Static).update(
            f" {source} · ctrl+t shows the {'draft' if self.published else 'published version'}"
        )
        route_id, published = self.route.route_id, self.published
        services = self.services

        def job() -> str:
            # imported here: the renderers are only needed once a preview is opened
            from modulacms.services import delivery

            if published:
                tree = services.publishing.snapshot(route_id)
            else:
                tree = services.content.tree(route_id)
            document = delivery.render(tree, fmt)
            return json.dumps(document, indent=2, ensure_ascii=False)

        def failed(error: Exception) -> bool:
            self._show(f"// {error}")
            return True

        self.call("preview", job, self._show, failed)

    def _show(self, text: str) -> None:
        area = self.query_one("#preview-text", TextArea)
        area.load_text(text)
        area.focus()
