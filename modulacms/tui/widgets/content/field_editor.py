"""The form of one content node, generated from its datatype's fields."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Input, Select, Static, Switch, TextArea

from modulacms.core.models import ContentItem, Datatype, DatatypeField
from modulacms.errors import FieldError
from modulacms.tui.messages import FormChanged
from modulacms.tui.text import esc
from modulacms.tui.widgets.content.field_inputs import FieldInput, field_input
from modulacms.tui.widgets.content.labels import node_title, status_text


@dataclass(frozen=True, slots=True)
class NewNode:
    """A node being created: its datatype and where it will go once saved."""

    route_id: str
    datatype: Datatype
    fields: tuple[DatatypeField, ...]
    where: str
    parent_id: str | None = None
    before: str | None = None
    after: str | None = None


class FieldEditor(VerticalScroll):
    """Edits an existing node (``item``) or a node about to be created (``new``).

    ``dirty`` is True while any field differs from what was loaded; the screen asks
    before anything replaces a dirty form.
    """

    DEFAULT_CSS = """
    FieldEditor { padding: 0 1; }
    FieldEditor #editor-head { height: auto; margin-bottom: 1; }
    FieldEditor #editor-hint { color: $text-muted; height: auto; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.item: ContentItem | None = None
        self.new: NewNode | None = None
        self._dirty = False
        self.can_focus = False
        # rebuilding awaits removal and mounting; two rebuilds must not interleave
        self._rebuilding = asyncio.Lock()

    def compose(self) -> ComposeResult:
        yield Static("Choose a route, then a node, to edit its fields.", id="editor-head")

    # loading ----------------------------------------------------------------------------

    async def edit(self, item: ContentItem) -> None:
        """Show ``item``'s fields with their stored values."""
        self.item, self.new = item, None
        await self._rebuild(item.fields, item.values)
        self.refresh_head()

    async def create(self, new: NewNode) -> None:
        """Show an empty form for a node of ``new.datatype``."""
        self.item, self.new = None, new
        await self._rebuild(new.fields, {})
        self.refresh_head()

    async def clear(self, message: str) -> None:
        self.item = self.new = None
        await self._rebuild((), {})
        self.query_one("#editor-head", Static).update(message)

    def accept(self, item: ContentItem) -> None:
        """Take ``item`` as saved: its values become the unchanged ones (no rebuild)."""
        self.item, self.new = item, None
        for widget in self.inputs():
            widget.reset(item.values.get(widget.name_))
        self._mark_dirty(False)
        self.refresh_head()

    async def _rebuild(
        self, fields: tuple[DatatypeField, ...], values: dict[str, str | None]
    ) -> None:
        async with self._rebuilding:
            await self._replace(fields, values)

    async def _replace(
        self, fields: tuple[DatatypeField, ...], values: dict[str, str | None]
    ) -> None:
        await self.query("FieldInput, #editor-hint").remove()
        widgets: list[FieldInput | Static] = [
            field_input(df, values.get(df.field.name)) for df in fields
        ]
        if fields:
            widgets.append(Static("^s save · ^r revert · esc tree", id="editor-hint"))
        elif self.item is not None or self.new is not None:
            widgets.append(Static("This datatype has no fields.", id="editor-hint"))
        await self.mount_all(widgets)
        self.scroll_home(animate=False)
        self._mark_dirty(False)

    def refresh_head(self) -> None:
        head = self.query_one("#editor-head", Static)
        if self.new is not None:
            head.update(f"[b]New {esc(self.new.datatype.label)}[/b] [dim]{esc(self.new.where)}[/]")
            return
        if self.item is None:
            return
        item = self.item
        title = node_title(item.fields, item.values)
        status = status_text(item.node.status).markup
        marker = " [b $warning]● modified[/]" if self._dirty else ""
        kind = esc(item.datatype.label)
        head.update(
            f"[b]{esc(title)}[/b]{marker}\n[dim]{kind} · rev {item.node.revision} ·[/] {status}"
        )

    # state ------------------------------------------------------------------------------

    def inputs(self) -> list[FieldInput]:
        return list(self.query(FieldInput))

    def input_for(self, name: str) -> FieldInput | None:
        for widget in self.inputs():
            if widget.name_ == name:
                return widget
        return None

    @property
    def dirty(self) -> bool:
        return self._dirty

    @property
    def active(self) -> bool:
        """True when a node (existing or new) is open."""
        return self.item is not None or self.new is not None

    def changed_values(self) -> dict[str, Any]:
        """The fields the editor changed, ready for ``content.update``."""
        return {w.name_: w.payload() for w in self.inputs() if w.changed}

    def filled_values(self) -> dict[str, Any]:
        """Every non-empty field, ready for ``content.create``."""
        values = {w.name_: w.payload() for w in self.inputs()}
        return {name: value for name, value in values.items() if value is not None}

    def texts(self) -> dict[str, str]:
        """What each field shows now (used to compare with someone else's version)."""
        return {w.name_: w.text() for w in self.inputs()}

    def revert(self) -> None:
        for widget in self.inputs():
            widget.set_text(widget.original)
            widget.set_error(None)
        self.refresh_dirty()

    def show_errors(self, errors: list[FieldError]) -> list[FieldError]:
        """Put each error on its field; returns the errors that name no field here."""
        for widget in self.inputs():
            widget.set_error(None)
        unplaced: list[FieldError] = []
        first: FieldInput | None = None
        for error in errors:
            target = self.input_for(error.field)
            if target is None:
                unplaced.append(error)
                continue
            target.set_error(error.message)
            first = first or target
        if first is not None:
            first.focus_editor()
            self.scroll_to_widget(first, animate=False)
        return unplaced

    def focus_first(self) -> bool:
        inputs = self.inputs()
        if not inputs:
            return False
        inputs[0].focus_editor()
        return True

    # change tracking --------------------------------------------------------------------

    def refresh_dirty(self) -> None:
        for widget in self.inputs():
            widget.mark()
        self._mark_dirty(any(w.changed for w in self.inputs()))

    def _mark_dirty(self, dirty: bool) -> None:
        if dirty != self._dirty:
            self._dirty = dirty
            self.refresh_head()
            self.post_message(FormChanged(dirty))

    def on_input_changed(self, event: Input.Changed) -> None:
        self.refresh_dirty()

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        self.refresh_dirty()

    def on_switch_changed(self, event: Switch.Changed) -> None:
        self.refresh_dirty()

    def on_select_changed(self, event: Select.Changed) -> None:
        self.refresh_dirty()
