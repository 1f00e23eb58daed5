"""Delivery formats: pure functions from an assembled route tree to JSON-able data.

The HTTP delivery endpoint, the CLI and the TUI preview all render through :func:`render`,
so a page looks the same wherever it is inspected. Formats follow the original ModulaCMS
(``spec/delivery-formats.md``): ``clean`` (our default), ``raw`` (the original's
``{"root": Node}``), ``contentful``, ``sanity``, ``strapi`` and ``wordpress``. Unlike the
original they emit real JSON nulls, real ids and real types everywhere.

Shared conventions (documented once here):

- a field's key is its name in camelCase (``meta_title`` -> ``metaTitle``), the key style
  of the original's output; ``raw`` keeps the names as stored;
- values are typed: ``number`` -> number, ``boolean`` -> bool, ``json`` -> parsed,
  an empty value -> ``null``;
- children are grouped under the camelCased plural of their datatype name when they all
  share one datatype (``columns``, ``richTexts``), otherwise under ``children``.

This package imports only ``modulacms.core``; it never touches the database.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from modulacms.core.models import RouteTree
from modulacms.errors import BadRequest
from modulacms.services.delivery import clean, contentful, raw, sanity, strapi, wordpress

Renderer = Callable[[RouteTree], Any]

RENDERERS: dict[str, Renderer] = {
    "clean": clean.render,
    "raw": raw.render,
    "contentful": contentful.render,
    "sanity": sanity.render,
    "strapi": strapi.render,
    "wordpress": wordpress.render,
}
FORMATS: tuple[str, ...] = tuple(RENDERERS)
DEFAULT_FORMAT = "clean"


def check_format(name: str | None) -> str:
    """The format called ``name`` (``None`` or empty means the default); 400 otherwise."""
    if not name:
        return DEFAULT_FORMAT
    if name not in RENDERERS:
        raise BadRequest(
            f"unknown format {name!r}; expected one of {', '.join(FORMATS)}",
            details={"format": name, "allowed": list(FORMATS)},
        )
    return name


def render(tree: RouteTree, fmt: str = DEFAULT_FORMAT) -> Any:
    """The JSON-able document of ``tree`` in format ``fmt`` (``BadRequest`` if unknown)."""
    return RENDERERS[check_format(fmt)](tree)
