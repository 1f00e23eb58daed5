"""What a plugin screen yields, checked and turned into frozen values (spec §9.4).

:func:`parse_yield` takes the plain data the bounded converter made of the yielded Lua
table and returns a :class:`~modulacms.core.plugin_screens.Grid`, a primitive or an
action, or raises :class:`ScreenValueError` naming what is wrong and where. Structure
is strict (a grid needs ``columns``, a column ``cells``, a cell ``content``; unknown types
and actions are refused); scalars are lenient as in the original (a number where text is
expected is shown as Lua prints it, a missing optional field is empty). Limits: 10,000
list items or table rows, 10 KB per string, trees 20 levels deep, 12 columns.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from modulacms.core.plugin_screens import (
    MAX_COLUMNS,
    MAX_ITEMS,
    MAX_STRING,
    MAX_TREE_DEPTH,
    Action,
    Cancel,
    Cell,
    Column,
    Commit,
    Confirm,
    Detail,
    DetailField,
    Fetch,
    Grid,
    Hint,
    Input,
    ListItem,
    ListView,
    Navigate,
    Primitive,
    Progress,
    Quit,
    Request,
    ScreenYield,
    Select,
    SelectOption,
    Table,
    TextBlock,
    TextLine,
    Toast,
    Tree,
    TreeNode,
)

ACTIONS = ("navigate", "confirm", "toast", "fetch", "request", "commit", "cancel", "quit")
TOAST_LEVELS = {
    "info": "information",
    "information": "information",
    "warning": "warning",
    "error": "error",
}
QUERY_KEYS = ("where", "where_or", "order_by", "desc", "limit", "offset", "columns")


class ScreenValueError(ValueError):
    """A yielded value that is not a screen value, or that breaks a limit."""


def _number_text(value: float | int) -> str:
    # Lua 5.1 prints integral numbers without a fraction (tostring(3) == "3")
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, float):
        return format(value, ".14g")
    return str(value)


def text(value: object, where: str, *, default: str = "") -> str:
    """A string field: text, a number or a boolean; at most :data:`MAX_STRING` bytes."""
    if value is None:
        return default
    if isinstance(value, bool):
        out = "true" if value else "false"
    elif isinstance(value, int | float):
        out = _number_text(value)
    elif isinstance(value, str):
        out = value
    elif isinstance(value, bytes):
        out = value.decode("utf-8", "replace")
    else:
        raise ScreenValueError(f"{where} must be text, not a table")
    if len(out.encode("utf-8", "surrogatepass")) > MAX_STRING:
        raise ScreenValueError(f"{where} is longer than {MAX_STRING} bytes")
    return out


def _flag(value: object) -> bool:
    return value is True


def _int(value: object, default: int = 0) -> int:
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return int(value)
        except (OverflowError, ValueError):
            return default
    return default


def _float(value: object, default: float = 0.0) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
        return number if number == number else default  # NaN
    return default


def _table(value: object, where: str) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    raise ScreenValueError(f"{where} must be a table with named fields")


def _list(value: object, where: str, *, limit: int | None = None) -> list[Any]:
    """A sequence; an empty table ({} converts to a map) counts as an empty list."""
    if value is None or value == {}:
        return []
    if not isinstance(value, list):
        raise ScreenValueError(f"{where} must be a list")
    if limit is not None and len(value) > limit:
        raise ScreenValueError(f"{where} has {len(value)} entries (max {limit})")
    return value


# -- primitives ---------------------------------------------------------------------------


def _list_view(data: dict[str, Any], where: str) -> ListView:
    items = []
    for i, raw in enumerate(_list(data.get("items"), f"{where}.items", limit=MAX_ITEMS)):
        at = f"{where}.items[{i + 1}]"
        item = _table(raw, at)
        items.append(
            ListItem(
                label=text(item.get("label"), f"{at}.label"),
                id=text(item.get("id"), f"{at}.id"),
                faint=_flag(item.get("faint")),
                bold=_flag(item.get("bold")),
            )
        )
    return ListView(
        tuple(items),
        cursor=_int(data.get("cursor")),
        empty_text=text(data.get("empty_text"), f"{where}.empty_text"),
    )


def _detail(data: dict[str, Any], where: str) -> Detail:
    fields = []
    for i, raw in enumerate(_list(data.get("fields"), f"{where}.fields", limit=MAX_ITEMS)):
        at = f"{where}.fields[{i + 1}]"
        field = _table(raw, at)
        fields.append(
            DetailField(
                label=text(field.get("label"), f"{at}.label"),
                value=text(field.get("value"), f"{at}.value"),
                faint=_flag(field.get("faint")),
            )
        )
    return Detail(tuple(fields), title=text(data.get("title"), f"{where}.title"))


def _text_block(data: dict[str, Any], where: str) -> TextBlock:
    lines = []
    for i, raw in enumerate(_list(data.get("lines"), f"{where}.lines", limit=MAX_ITEMS)):
        at = f"{where}.lines[{i + 1}]"
        if not isinstance(raw, dict):
            lines.append(TextLine(text(raw, at)))
            continue
        style = raw.get("style")
        style = style if isinstance(style, dict) else {}
        lines.append(
            TextLine(
                text=text(raw.get("text"), f"{at}.text"),
                bold=_flag(raw.get("bold")),
                faint=_flag(raw.get("faint")),
                accent=_flag(raw.get("accent")),
                fg=text(style.get("fg"), f"{at}.style.fg"),
                bg=text(style.get("bg"), f"{at}.style.bg"),
            )
        )
    return TextBlock(tuple(lines))


def _table_view(data: dict[str, Any], where: str) -> Table:
    headers = tuple(
        text(h, f"{where}.headers[{i + 1}]")
        for i, h in enumerate(_list(data.get("headers"), f"{where}.headers", limit=MAX_ITEMS))
    )
    rows = []
    for i, raw in enumerate(_list(data.get("rows"), f"{where}.rows", limit=MAX_ITEMS)):
        at = f"{where}.rows[{i + 1}]"
        cells = _list(raw, at, limit=MAX_ITEMS)
        rows.append(tuple(text(c, f"{at}[{j + 1}]") for j, c in enumerate(cells)))
    return Table(headers, tuple(rows), cursor=_int(data.get("cursor")))


def _input(data: dict[str, Any], where: str) -> Input:
    return Input(
        id=text(data.get("id"), f"{where}.id"),
        value=text(data.get("value"), f"{where}.value"),
        placeholder=text(data.get("placeholder"), f"{where}.placeholder"),
        focused=_flag(data.get("focused")),
        char_limit=max(0, _int(data.get("char_limit"))),
    )


def _select(data: dict[str, Any], where: str) -> Select:
    options = []
    for i, raw in enumerate(_list(data.get("options"), f"{where}.options", limit=MAX_ITEMS)):
        at = f"{where}.options[{i + 1}]"
        option = _table(raw, at)
        options.append(
            SelectOption(
                label=text(option.get("label"), f"{at}.label"),
                value=text(option.get("value"), f"{at}.value"),
            )
        )
    return Select(
        id=text(data.get("id"), f"{where}.id"),
        options=tuple(options),
        selected=_int(data.get("selected")),
        focused=_flag(data.get("focused")),
    )


def _tree_nodes(value: object, where: str, depth: int, budget: list[int]) -> tuple[TreeNode, ...]:
    found = _list(value, f"{where} level {depth}", limit=MAX_ITEMS)
    if found and depth > MAX_TREE_DEPTH:
        raise ScreenValueError(f"{where} is deeper than {MAX_TREE_DEPTH} levels")
    nodes = []
    for i, raw in enumerate(found):
        budget[0] -= 1
        if budget[0] < 0:
            raise ScreenValueError(f"{where} has more than {MAX_ITEMS} nodes")
        at = f"{where} level {depth} node {i + 1}"
        node = _table(raw, at)
        nodes.append(
            TreeNode(
                label=text(node.get("label"), f"{at}.label"),
                id=text(node.get("id"), f"{at}.id"),
                expanded=_flag(node.get("expanded")),
                children=_tree_nodes(node.get("children"), where, depth + 1, budget),
            )
        )
    return tuple(nodes)


def _tree(data: dict[str, Any], where: str) -> Tree:
    nodes = _tree_nodes(data.get("nodes"), f"{where} tree", 1, [MAX_ITEMS])
    return Tree(nodes, cursor=_int(data.get("cursor")))


def _progress(data: dict[str, Any], where: str) -> Progress:
    value = min(1.0, max(0.0, _float(data.get("value"))))
    return Progress(value, label=text(data.get("label"), f"{where}.label"))


PRIMITIVES: Mapping[str, Callable[[dict[str, Any], str], Primitive]] = {
    "list": _list_view,
    "detail": _detail,
    "text": _text_block,
    "table": _table_view,
    "input": _input,
    "select": _select,
    "tree": _tree,
    "progress": _progress,
}


def primitive(data: dict[str, Any], where: str) -> Primitive:
    kind = data.get("type")
    if not isinstance(kind, str):
        raise ScreenValueError(f"{where} has no 'type' field")
    parse = PRIMITIVES.get(kind)
    if parse is None:
        raise ScreenValueError(f'{where} has unknown type "{kind}"')
    return parse(data, where)


# -- layout -------------------------------------------------------------------------------


def grid(data: dict[str, Any]) -> Grid:
    raw_columns = _list(data.get("columns"), "grid.columns")
    if "columns" not in data:
        raise ScreenValueError("grid has no 'columns' table")
    if len(raw_columns) > MAX_COLUMNS:
        raise ScreenValueError(f"grid has {len(raw_columns)} columns (max {MAX_COLUMNS})")
    columns = []
    for i, raw in enumerate(raw_columns):
        at = f"column {i + 1}"
        column = _table(raw, at)
        if "cells" not in column:
            raise ScreenValueError(f"{at} has no 'cells' table")
        cells = []
        for j, raw_cell in enumerate(_list(column.get("cells"), f"{at}.cells", limit=MAX_ITEMS)):
            where = f"{at} cell {j + 1}"
            cell = _table(raw_cell, where)
            content = cell.get("content")
            if not isinstance(content, dict):
                raise ScreenValueError(f"{where} has no 'content' table")
            height = _float(cell.get("height"), 1.0)
            cells.append(
                Cell(
                    content=primitive(content, f"{where} content"),
                    title=text(cell.get("title"), f"{where}.title"),
                    height=height if height > 0 else 1.0,
                )
            )
        span = _int(column.get("span"), 1)
        columns.append(Column(tuple(cells), span=span if span > 0 else 1))
    hints = []
    for i, raw in enumerate(_list(data.get("hints"), "grid.hints", limit=MAX_ITEMS)):
        if not isinstance(raw, dict):
            continue
        key = text(raw.get("key"), f"hint {i + 1}.key")
        if key:
            hints.append(Hint(key, text(raw.get("label"), f"hint {i + 1}.label")))
    return Grid(tuple(columns), tuple(hints))


# -- actions ------------------------------------------------------------------------------


def _params(value: object) -> tuple[tuple[str, str], ...]:
    if value is None or value == {}:
        return ()
    found = _table(value, "navigate params")
    return tuple(sorted((k, text(v, f"navigate params.{k}")) for k, v in found.items()))


def _headers(value: object) -> tuple[tuple[str, str], ...]:
    if value is None or value == {}:
        return ()
    found = _table(value, "request headers")
    return tuple(sorted((k, text(v, f"request headers.{k}")) for k, v in found.items()))


def _required(data: dict[str, Any], key: str, action: str) -> str:
    value = text(data.get(key), f"{action}.{key}")
    if not value:
        raise ScreenValueError(f'{action} action needs "{key}"')
    return value


def action(data: dict[str, Any], plugin: str) -> Action:
    """An ``{action=...}`` table; ``plugin`` is the default target of ``navigate``."""
    name = data.get("action")
    if name not in ACTIONS:
        raise ScreenValueError(f'unknown action "{text(name, "action")}"')
    if name == "navigate":
        screen = text(data.get("screen"), "navigate.screen") or text(
            data.get("page"), "navigate.page"
        )
        if not screen:
            raise ScreenValueError('navigate action needs "screen"')
        target = text(data.get("plugin"), "navigate.plugin") or plugin
        return Navigate(screen, target, _params(data.get("params")))
    if name == "confirm":
        return Confirm(
            title=text(data.get("title"), "confirm.title") or "Confirm",
            message=text(data.get("message"), "confirm.message"),
        )
    if name == "toast":
        level = text(data.get("level"), "toast.level")
        return Toast(
            text(data.get("message"), "toast.message"), TOAST_LEVELS.get(level, "information")
        )
    if name == "fetch":
        query = {k: data[k] for k in QUERY_KEYS if k in data}
        try:
            encoded = json.dumps(query, sort_keys=True, allow_nan=False)
        except (TypeError, ValueError):
            raise ScreenValueError("fetch options must be plain text, numbers and tables") from None
        return Fetch(_required(data, "id", "fetch"), _required(data, "table", "fetch"), encoded)
    if name == "request":
        body = data.get("body")
        return Request(
            id=_required(data, "id", "request"),
            url=_required(data, "url", "request"),
            method=(text(data.get("method"), "request.method") or "GET").upper(),
            headers=_headers(data.get("headers")),
            body=None if body is None else text(body, "request.body"),
        )
    if name == "commit":
        value = data.get("value")
        return Commit(None if value is None else text(value, "commit.value"))
    if name == "cancel":
        return Cancel()
    return Quit()


def parse_yield(data: object, plugin: str) -> ScreenYield:
    """The converted yield of a screen as a frozen value."""
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else "nothing" if data is None else "a scalar"
        raise ScreenValueError(f"yielded {kind}; expected a layout, a primitive or an action table")
    if "action" in data:
        return action(data, plugin)
    if data.get("type") == "grid":
        return grid(data)
    return primitive(data, "yielded primitive")
