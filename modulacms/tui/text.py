"""User text shown safely: names, titles and values are never read as markup.

A title such as ``Arrays[int]`` or ``a[/]b`` must appear as typed, not style the screen
or raise a markup error, so every string that comes from the database goes through here.
"""

from __future__ import annotations

from rich.text import Text
from textual.markup import escape


def plain(value: object, style: str = "") -> Text:
    """``value`` as literal text (for table cells, labels and dialog titles)."""
    return Text("" if value is None else str(value), style=style)


def esc(value: object) -> str:
    """``value`` escaped for use inside a markup string."""
    return escape("" if value is None else str(value))
