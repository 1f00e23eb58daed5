"""Package data lookups that work the same from a source tree and a frozen binary."""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable


def package_path(package: str, *parts: str) -> Traversable:
    """A file or folder shipped inside a ``modulacms`` package."""
    node = resources.files(package)
    for part in parts:
        node = node.joinpath(part)
    return node


def read_text(package: str, *parts: str) -> str:
    """The text of a file shipped inside a ``modulacms`` package (UTF-8)."""
    return package_path(package, *parts).read_text(encoding="utf-8")
