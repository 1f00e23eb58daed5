"""Primitives of a plugin screen as Rich renderables.

Every function returns the renderable and the line its cursor is on (None when the
primitive has no cursor), so the cell can keep that line in view. Text from the plugin is
always used as plain text, never as markup.
"""

from __future__ import annotations

from collections.abc import Iterator

from rich.console import Group, RenderableType
from rich.errors import StyleSyntaxError
from rich.style import Style
from rich.table import Table as RichTable
from rich.text import Text

from modulacms.core.plugin_screens import (
    Detail,
    Input,
    ListView,
    Primitive,
    Progress,
    Select,
    Table,
    TextBlock,
    TextLine,
    Tree,
    TreeNode,
)

CURSOR = "reverse"
ACCENT = "bold cyan"
BAR_WIDTH = 30
Rendered = tuple[RenderableType, int | None]


def _cursor(index: int, count: int) -> int | None:
    return index if 0 <= index < count else None


def render_list(p: ListView) -> Rendered:
    if not p.items:
        return Text(p.empty_text or "(empty)", style="dim"), None
    text = Text()
    cursor = _cursor(p.cursor, len(p.items))
    for index, item in enumerate(p.items):
        style = " ".join(s for s, on in (("dim", item.faint), ("bold", item.bold)) if on)
        marker = "▸ " if index == cursor else "  "
        line = Text(marker + item.label, style=style)
        if index == cursor:
            line.stylize(CURSOR)
        if index:
            text.append("\n")
        text.append_text(line)
    return text, cursor


def render_detail(p: Detail) -> Rendered:
    grid = RichTable.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    for field in p.fields:
        grid.add_row(Text(field.label), Text(field.value, style="dim" if field.faint else ""))
    if not p.fields:
        grid.add_row(Text("(no details)", style="dim"), Text(""))
    if p.title:
        return Group(Text(p.title, style="bold underline"), grid), None
    return grid, None


def _line_style(line: TextLine) -> Style:
    style = Style(bold=line.bold or None, dim=line.faint or None)
    if line.accent:
        style += Style.parse(ACCENT)
    try:
        if line.fg:
            style += Style(color=line.fg)
        if line.bg:
            style += Style(bgcolor=line.bg)
    except (StyleSyntaxError, ValueError, KeyError):
        pass  # an unknown colour name is ignored, as a terminal would
    return style


def render_text(p: TextBlock) -> Rendered:
    text = Text()
    for index, line in enumerate(p.lines):
        if index:
            text.append("\n")
        text.append(line.text, style=_line_style(line))
    return text, None


def render_table(p: Table) -> Rendered:
    width = max([len(p.headers), *(len(r) for r in p.rows)] or [0])
    if width == 0:
        return Text("(empty table)", style="dim"), None
    table = RichTable(
        box=None,
        show_header=bool(p.headers),
        header_style="bold",
        pad_edge=False,
        padding=(0, 2, 0, 0),
        show_edge=False,
    )
    for index in range(width):
        table.add_column(Text(p.headers[index]) if index < len(p.headers) else "", no_wrap=True)
    cursor = _cursor(p.cursor, len(p.rows))
    for index, row in enumerate(p.rows):
        cells = [Text(c) for c in row] + [Text("")] * (width - len(row))
        table.add_row(*cells, style=CURSOR if index == cursor else None)
    line = None if cursor is None else cursor + (1 if p.headers else 0)
    return table, line


def render_input(p: Input) -> Rendered:
    text = Text("> " if p.focused else "  ")
    text.append("[")
    if p.value:
        text.append(p.value)
    else:
        text.append(p.placeholder, style="dim")
    text.append("]")
    return text, None


def render_select(p: Select) -> Rendered:
    if not p.options:
        return Text("(no options)", style="dim"), None
    chosen = p.options[p.selected].label if 0 <= p.selected < len(p.options) else ""
    text = Text("> " if p.focused else "  ")
    text.append(f"< {chosen} >")
    text.append(f"  ({len(p.options)} options)", style="dim")
    return text, None


def _visible(nodes: tuple[TreeNode, ...], depth: int) -> Iterator[tuple[int, TreeNode]]:
    for node in nodes:
        yield depth, node
        if node.expanded:
            yield from _visible(node.children, depth + 1)


def render_tree(p: Tree) -> Rendered:
    rows = list(_visible(p.nodes, 0))
    if not rows:
        return Text("(empty tree)", style="dim"), None
    cursor = _cursor(p.cursor, len(rows))
    text = Text()
    for index, (depth, node) in enumerate(rows):
        icon = ("▼" if node.expanded else "▶") if node.children else " "
        line = Text("  " * depth + f"{icon} {node.label}")
        if index == cursor:
            line.stylize(CURSOR)
        if index:
            text.append("\n")
        text.append_text(line)
    return text, cursor


def render_progress(p: Progress) -> Rendered:
    filled = min(BAR_WIDTH, int(BAR_WIDTH * p.value))
    text = Text("█" * filled, style="green")
    text.append("░" * (BAR_WIDTH - filled), style="dim")
    if p.label:
        text.append(f" {p.label}")
    text.append(f" {int(p.value * 100)}%")
    return text, None


def render(p: Primitive) -> Rendered:
    """The renderable of any primitive, and its cursor line."""
    if isinstance(p, ListView):
        return render_list(p)
    if isinstance(p, Detail):
        return render_detail(p)
    if isinstance(p, TextBlock):
        return render_text(p)
    if isinstance(p, Table):
        return render_table(p)
    if isinstance(p, Input):
        return render_input(p)
    if isinstance(p, Select):
        return render_select(p)
    if isinstance(p, Tree):
        return render_tree(p)
    return render_progress(p)
