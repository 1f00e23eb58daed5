"""The delivery renderers as pure functions of a route tree."""

from __future__ import annotations

import pytest

from modulacms.core.models import (
    ContentNode,
    ContentStatus,
    Datatype,
    DatatypeField,
    Field,
    FieldType,
    Route,
    RouteTree,
    TreeNode,
)
from modulacms.errors import BadRequest
from modulacms.services.delivery import FORMATS, check_format, render
from modulacms.services.delivery.common import camel, plural, typed

T = "2026-01-01T00:00:00.000Z"
ROUTE = Route("R" * 26, "S" * 26, "/about", "About", "V" * 26, None, T, T)


def datatype(name: str) -> Datatype:
    return Datatype(f"D{name}".ljust(26, "0"), name, name.title(), "", None, T, T)


def field(name: str, kind: FieldType, order: int) -> DatatypeField:
    f = Field(f"F{name}".ljust(26, "0"), name, name.title(), kind, {}, {}, False, None, T, T)
    return DatatypeField("D", f, order, False)


def node(ident: str, dt: Datatype, values: dict[str, str | None], fields: tuple, children=()):
    content = ContentNode(
        ident.ljust(26, "0"),
        None,
        None,
        None,
        None,
        "N0".ljust(26, "0"),
        ROUTE.route_id,
        dt.datatype_id,
        None,
        ContentStatus.PUBLISHED,
        None,
        T,
        None,
        3,
        None,
        T,
        T,
    )
    return TreeNode(content, dt, fields, values, tuple(children))


def tree(children_types: tuple[str, ...]) -> RouteTree:
    page_fields = (
        field("meta_title", FieldType.TEXT, 0),
        field("views", FieldType.NUMBER, 1),
        field("flag", FieldType.BOOLEAN, 2),
        field("data", FieldType.JSON, 3),
        field("empty", FieldType.TEXT, 4),
        field("title", FieldType.TEXT, 5),
    )
    kids = [
        node(f"C{i}", datatype(name), {"title": f"c{i}"}, (field("title", FieldType.TEXT, 0),))
        for i, name in enumerate(children_types)
    ]
    root = node(
        "N0",
        datatype("page"),
        {
            "meta_title": "M",
            "views": "2.0",
            "flag": "true",
            "data": '{"a": [1]}',
            "empty": "",
            "title": "T",
        },
        page_fields,
        kids,
    )
    return RouteTree(ROUTE, root, 1 + len(kids))


def test_helpers() -> None:
    assert camel("meta_title") == "metaTitle" and camel("title") == "title"
    assert [plural(w) for w in ("card", "entry", "box", "day", "class")] == [
        "cards",
        "entries",
        "boxes",
        "days",
        "classes",
    ]
    assert typed(FieldType.NUMBER, "2.5") == 2.5 and typed(FieldType.NUMBER, "3") == 3
    assert typed(FieldType.NUMBER, "x") == "x"  # stored text that no longer parses stays text
    assert typed(FieldType.BOOLEAN, "false") is False and typed(FieldType.TEXT, "") is None
    assert typed(FieldType.JSON, "[1]") == [1]


def test_clean_types_values_and_groups_children() -> None:
    page = render(tree(("card_entry", "card_entry")), "clean")
    assert page["metaTitle"] == "M" and page["views"] == 2 and page["flag"] is True
    assert page["data"] == {"a": [1]} and page["empty"] is None
    assert [c["title"] for c in page["cardEntries"]] == ["c0", "c1"]
    mixed = render(tree(("card", "section")), "clean")
    assert [c["type"] for c in mixed["children"]] == ["card", "section"]


def test_every_format_renders_and_an_empty_route() -> None:
    full = tree(("card",))
    empty = RouteTree(ROUTE, None, 0)
    for fmt in FORMATS:
        assert render(full, fmt)
    assert render(empty, "raw") == {"root": None}
    assert render(empty, "strapi") == {"data": None, "meta": {}}
    assert render(empty, "clean") is None
    assert render(full, "contentful")["sys"]["revision"] == 3
    assert render(full, "sanity")["_rev"] == "v3"
    raw = render(full, "raw")["root"]
    assert raw["fields"][1]["content"]["field_value"] == "2.0"  # raw keeps stored text
    assert raw["nodes"][0]["datatype"]["info"]["type"] == "content"


def test_unknown_format() -> None:
    assert check_format(None) == "clean"
    with pytest.raises(BadRequest, match="unknown format"):
        check_format("xml")
