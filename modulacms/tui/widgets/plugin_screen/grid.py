"""The body of a plugin screen: columns (by span) of titled cells (by height).

A new yield with the same shape (columns, spans, cells, heights) only updates the cells'
contents, so a screen that re-renders on every key does not rebuild the widget tree.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Static

from modulacms.core.plugin_screens import Cell, Column, Grid, Primitive
from modulacms.tui.widgets.plugin_screen.render import render

Shape = tuple[tuple[int, tuple[float, ...]], ...]


class PluginCell(VerticalScroll, can_focus=False):
    """One titled cell; keeps the primitive's cursor line in view."""

    DEFAULT_CSS = """
    PluginCell { border: round $panel; height: 1fr; padding: 0 1; }
    PluginCell.focused { border: round $accent; }
    PluginCell > Static { width: 100%; }
    """

    def __init__(self, cell: Cell, *, focused: bool = False) -> None:
        super().__init__(classes="focused" if focused else "")
        self.cell = cell
        self.border_title = cell.title or None

    def compose(self) -> ComposeResult:
        yield Static(id="cell-content")

    def on_mount(self) -> None:
        self.show(self.cell)

    def show(self, cell: Cell) -> None:
        self.cell = cell
        self.border_title = cell.title or None
        self.styles.height = f"{cell.height:g}fr"
        renderable, line = render(cell.content)
        self.query_one(Static).update(renderable)
        if line is not None:
            self.call_after_refresh(self._reveal, line)

    def _reveal(self, line: int) -> None:
        height = self.scrollable_content_region.height
        if line < self.scroll_y or line >= self.scroll_y + height:
            self.scroll_to(y=max(0, line - height // 2), animate=False)


class PluginGrid(Horizontal):
    """Shows a :class:`Grid` or a single primitive (one untitled cell)."""

    DEFAULT_CSS = """
    PluginGrid { height: 1fr; }
    PluginGrid > Vertical { height: 1fr; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.layout_value: Grid | None = None
        self.focus_index = 0
        self._shape: Shape | None = None

    @staticmethod
    def as_grid(value: Grid | Primitive) -> Grid:
        if isinstance(value, Grid):
            return value
        return Grid((Column((Cell(value),), span=12),))

    @property
    def cell_count(self) -> int:
        return len(self.layout_value.cells) if self.layout_value is not None else 0

    async def show(self, value: Grid | Primitive) -> None:
        grid = self.as_grid(value)
        shape: Shape = tuple(
            (column.span, tuple(cell.height for cell in column.cells)) for column in grid.columns
        )
        self.layout_value = grid
        if self.focus_index >= len(grid.cells):
            self.focus_index = 0
        if shape == self._shape:
            for widget, cell in zip(self.query(PluginCell), grid.cells, strict=True):
                widget.show(cell)
            return
        self._shape = shape
        await self.remove_children()
        index = 0
        columns = []
        for column in grid.columns:
            cells = []
            for cell in column.cells:
                cells.append(PluginCell(cell, focused=index == self.focus_index))
                index += 1
            box = Vertical(*cells)
            box.styles.width = f"{column.span}fr"
            columns.append(box)
        await self.mount_all(columns)

    def move_focus(self, step: int) -> int:
        """Focus the next (or previous) cell; returns its index."""
        count = self.cell_count
        if count:
            self.focus_index = (self.focus_index + step) % count
            for index, widget in enumerate(self.query(PluginCell)):
                widget.set_class(index == self.focus_index, "focused")
        return self.focus_index
