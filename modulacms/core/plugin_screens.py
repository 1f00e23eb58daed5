"""Plugin-defined TUI screens as front ends see them (spec §9.4).

A plugin ships ``screens/<name>.lua`` defining a global ``screen(ctx)``; the runtime runs
it as a coroutine and converts whatever it yields into the frozen values below, so no Lua
object ever reaches a front end. The TUI holds a :class:`ScreenSession` per open screen:
it sends events (:class:`KeyEvent`, :class:`ResizeEvent`, :class:`DataEvent`,
:class:`DialogEvent`, :class:`FocusEvent`) and gets back what the screen yielded next —
a :class:`Grid`, a single primitive, or an action. A screen that returns gets
:class:`Quit`.

Conventions kept from the Go original: cursors and selections are 0-based indexes,
progress values run from 0 to 1, a cell's ``height`` is a relative weight, a column's
``span`` is its share of a 12-column grid.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, TypeAlias

from modulacms.errors import PluginError

PROTOCOL_VERSION = 1
MAX_ITEMS = 10_000
"""Items of a list, rows of a table."""
MAX_STRING = 10 * 1024
"""Bytes of any one string a screen yields."""
MAX_TREE_DEPTH = 20
MAX_COLUMNS = 12


class PluginScreenError(PluginError):
    """A plugin screen failed (raised, timed out, ran out of memory, yielded something
    that is not a screen value, or broke a limit); its session is over."""

    code = "plugin_screen"
    title = "Plugin screen error"


@dataclass(frozen=True, slots=True)
class ScreenInfo:
    """One screen a plugin declares in ``plugin_info.screens``."""

    plugin: str
    name: str
    label: str = ""
    icon: str = ""
    hidden: bool = False

    @property
    def path(self) -> str:
        """``<plugin>/<screen>``, as the palette and the original's sidebar name it."""
        return f"{self.plugin}/{self.name}"

    @property
    def title(self) -> str:
        return self.label or self.name


# -- primitives ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ListItem:
    label: str
    id: str = ""
    faint: bool = False
    bold: bool = False


@dataclass(frozen=True, slots=True)
class ListView:
    """``{type="list", items={{label, id, faint, bold}}, cursor, empty_text}``."""

    items: tuple[ListItem, ...] = ()
    cursor: int = 0
    empty_text: str = ""


@dataclass(frozen=True, slots=True)
class DetailField:
    label: str
    value: str
    faint: bool = False


@dataclass(frozen=True, slots=True)
class Detail:
    """``{type="detail", title, fields={{label, value, faint}}}``."""

    fields: tuple[DetailField, ...] = ()
    title: str = ""


@dataclass(frozen=True, slots=True)
class TextLine:
    text: str
    bold: bool = False
    faint: bool = False
    accent: bool = False
    fg: str = ""
    bg: str = ""


@dataclass(frozen=True, slots=True)
class TextBlock:
    """``{type="text", lines={"plain", {text, bold, faint, accent, style={fg, bg}}}}``."""

    lines: tuple[TextLine, ...] = ()


@dataclass(frozen=True, slots=True)
class Table:
    """``{type="table", headers={...}, rows={{...}}, cursor}``; cells are text."""

    headers: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()
    cursor: int = 0


@dataclass(frozen=True, slots=True)
class Input:
    """``{type="input", id, value, placeholder, focused, char_limit}`` (shown; typing
    goes to the screen as key events)."""

    id: str = ""
    value: str = ""
    placeholder: str = ""
    focused: bool = False
    char_limit: int = 0


@dataclass(frozen=True, slots=True)
class SelectOption:
    label: str
    value: str = ""


@dataclass(frozen=True, slots=True)
class Select:
    """``{type="select", id, options={{label, value}}, selected, focused}``."""

    id: str = ""
    options: tuple[SelectOption, ...] = ()
    selected: int = 0
    focused: bool = False


@dataclass(frozen=True, slots=True)
class TreeNode:
    label: str
    id: str = ""
    expanded: bool = False
    children: tuple[TreeNode, ...] = ()


@dataclass(frozen=True, slots=True)
class Tree:
    """``{type="tree", nodes={{label, id, expanded, children}}, cursor}``; the cursor
    counts the visible nodes from the top."""

    nodes: tuple[TreeNode, ...] = ()
    cursor: int = 0


@dataclass(frozen=True, slots=True)
class Progress:
    """``{type="progress", value, label}``; value clamped to 0..1."""

    value: float = 0.0
    label: str = ""


Primitive: TypeAlias = ListView | Detail | TextBlock | Table | Input | Select | Tree | Progress


# -- layout -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Cell:
    content: Primitive
    title: str = ""
    height: float = 1.0


@dataclass(frozen=True, slots=True)
class Column:
    cells: tuple[Cell, ...]
    span: int = 1


@dataclass(frozen=True, slots=True)
class Hint:
    key: str
    label: str = ""


@dataclass(frozen=True, slots=True)
class Grid:
    """``{type="grid", columns={{span, cells={{title, height, content}}}}, hints}``."""

    columns: tuple[Column, ...]
    hints: tuple[Hint, ...] = ()

    @property
    def cells(self) -> tuple[Cell, ...]:
        """Every cell, column by column (the order focus moves in)."""
        return tuple(cell for column in self.columns for cell in column.cells)


# -- actions ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Navigate:
    """Open another screen (of ``plugin``, by default the same one) with ``params``."""

    screen: str
    plugin: str
    params: tuple[tuple[str, str], ...] = ()

    @property
    def params_dict(self) -> dict[str, str]:
        return dict(self.params)


@dataclass(frozen=True, slots=True)
class Confirm:
    """Ask a yes/no question; the answer comes back as a :class:`DialogEvent`."""

    title: str = "Confirm"
    message: str = ""


@dataclass(frozen=True, slots=True)
class Toast:
    """Show a notification; ``level`` is ``information``, ``warning`` or ``error``."""

    message: str
    level: str = "information"


@dataclass(frozen=True, slots=True)
class Fetch:
    """Read rows of the plugin's own ``table`` off the UI thread; ``query`` is the
    canonical JSON text of ``db.query`` options. The rows come back as a data event."""

    id: str
    table: str
    query: str = "{}"


@dataclass(frozen=True, slots=True)
class Request:
    """An outbound HTTP request through the plugin's approved domains (``parse_json``
    on); the response table comes back as a data event."""

    id: str
    url: str
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    body: str | None = None


@dataclass(frozen=True, slots=True)
class Commit:
    """The screen is done and keeps its changes (``value`` is for field interfaces; a
    standalone screen just closes)."""

    value: str | None = None


@dataclass(frozen=True, slots=True)
class Cancel:
    """The screen is done and drops its changes (closes it)."""


@dataclass(frozen=True, slots=True)
class Quit:
    """The screen is done (also what a returning ``screen(ctx)`` means)."""


Action: TypeAlias = Navigate | Confirm | Toast | Fetch | Request | Commit | Cancel | Quit
ScreenYield: TypeAlias = Grid | Primitive | Action
CLOSING = (Commit, Cancel, Quit)
"""Actions after which the session is over."""


# -- events -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class KeyEvent:
    """``{type="key", key}``: key names as in the original (``enter``, ``up``,
    ``ctrl+s``, ``pgdown``, a printable character as itself)."""

    key: str


@dataclass(frozen=True, slots=True)
class ResizeEvent:
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class DataEvent:
    """The answer to a fetch or request: ``result`` (plain data: rows, or the response
    table) when ``ok``, else ``error``."""

    id: str
    ok: bool
    result: object = None
    error: str = ""


@dataclass(frozen=True, slots=True)
class DialogEvent:
    accepted: bool


@dataclass(frozen=True, slots=True)
class FocusEvent:
    """The focused cell changed; ``panel`` is its 0-based index in :attr:`Grid.cells`."""

    panel: int


ScreenEvent: TypeAlias = KeyEvent | ResizeEvent | DataEvent | DialogEvent | FocusEvent


class ScreenSession(Protocol):
    """One open plugin screen, holding one of the plugin's VMs until closed.

    Every method may block (it runs Lua, SQL or HTTP), so a UI calls them off its main
    thread, one at a time. ``send`` raises :class:`PluginScreenError` when the screen
    fails; the session is then closed already. After a closing action (:data:`CLOSING`)
    the session is closed too.
    """

    @property
    def info(self) -> ScreenInfo: ...

    @property
    def initial(self) -> ScreenYield:
        """What the screen yielded in answer to its init event."""
        ...

    @property
    def closed(self) -> bool: ...

    def send(self, event: ScreenEvent) -> ScreenYield:
        """Resume the screen with ``event``; returns what it yields next."""
        ...

    def perform(self, action: Fetch | Request) -> DataEvent:
        """Run a fetch or request (no Lua runs); send the result back with :meth:`send`."""
        ...

    def close(self) -> None:
        """End the screen and give its VM back (idempotent)."""
        ...
