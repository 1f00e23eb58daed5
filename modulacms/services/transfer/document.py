"""The export file: its header, its one-route-per-line layout, and reading it back.

See :mod:`modulacms.services.transfer` for the shape. Every problem with a file becomes a
``BadRequest`` whose message says where it is.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict
from typing import Any, TextIO

from modulacms.core.models import ContentNode, Field
from modulacms.errors import BadRequest

FORMAT = "modulacms-export"
FORMAT_VERSION = 1


def field_doc(field: Field) -> dict[str, Any]:
    data = asdict(field)
    data["type"] = field.type.value
    return data


def dumps(value: Any, pretty: bool) -> str:
    if pretty:
        return json.dumps(value, ensure_ascii=False, indent=2)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def node_doc(node: ContentNode, values: dict[str, list[list[Any]]]) -> dict[str, Any]:
    return {
        "content_data_id": node.content_data_id,
        "parent_id": node.parent_id,
        "datatype_id": node.datatype_id,
        "author_id": node.author_id,
        "status": node.status.value,
        "publish_at": node.publish_at,
        "published_at": node.published_at,
        "published_by": node.published_by,
        "revision": node.revision,
        "date_created": node.date_created,
        "date_modified": node.date_modified,
        "values": values.get(node.content_data_id, []),
    }


def require(condition: bool, where: str, problem: str) -> None:
    if not condition:
        raise BadRequest(f"not a valid ModulaCMS export: {where}: {problem}")


def loads(text: str, where: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadRequest(
            f"{where} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None


_ROUTES_OPEN = ',"routes":['


def read(source: TextIO) -> tuple[dict[str, Any], Iterator[Any], int]:
    """(header, route entries, number of routes or 0 when unknown) of an export.

    The layout :meth:`Transfer.export` writes (header line ending in ``"routes":[``, then
    one route per line, then ``]}``) is streamed; anything else is parsed whole.
    """
    first = source.readline()
    line = first.rstrip("\n")
    if not line.endswith(_ROUTES_OPEN):
        document = checked(loads(first + source.read(), "the export"))
        require(isinstance(document.get("routes"), list), "routes", "expected a list")
        return document, iter(document["routes"]), len(document["routes"])
    header = checked(loads(line[: -len(_ROUTES_OPEN)] + "}", "the export header"))
    total = 0
    if source.seekable():
        # count the route lines first so that progress can show a total
        position = source.tell()
        total = max(0, sum(1 for _ in source) - 1)
        source.seek(position)
    return header, entries(source), total


def entries(source: TextIO) -> Iterator[Any]:
    for number, line in enumerate(source, start=2):
        text = line.strip()
        if text == "]}":
            return
        if text:
            yield loads(text.removeprefix(","), f"line {number} of the export")
    raise BadRequest("not a valid ModulaCMS export: it ends before its closing ]}")


def checked(document: Any) -> dict[str, Any]:
    """The header of a document, once it is known to be an export this version reads."""
    require(isinstance(document, dict), "document", "expected a JSON object")
    require(document.get("format") == FORMAT, "format", f'expected "{FORMAT}"')
    version = document.get("format_version")
    require(
        version == FORMAT_VERSION,
        "format_version",
        f"this ModulaCMS reads version {FORMAT_VERSION}, the file is version {version}",
    )
    for key in ("fields", "datatypes"):
        require(isinstance(document.get(key), list), key, "expected a list")
    checked: dict[str, Any] = document
    return checked
