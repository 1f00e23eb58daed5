"""How content nodes are named and decorated in lists and trees."""

from __future__ import annotations

from collections.abc import Mapping

from rich.text import Text

from modulacms.core.models import ContentStatus, DatatypeField, FieldType

# the first of these a datatype has names its nodes; otherwise its first text-like field
TITLE_FIELDS = ("title", "name", "heading", "headline", "label", "slug")
_TEXTUAL = (
    FieldType.TEXT,
    FieldType.SLUG,
    FieldType.EMAIL,
    FieldType.TEXTAREA,
    FieldType.RICHTEXT,
)

STATUS_STYLE: dict[ContentStatus, tuple[str, str, str]] = {
    ContentStatus.DRAFT: ("draft", "yellow", "○"),
    ContentStatus.SCHEDULED: ("scheduled", "cyan", "◷"),
    ContentStatus.PUBLISHED: ("published", "green", "●"),
    ContentStatus.ARCHIVED: ("archived", "bright_black", "×"),
}
"""Status -> (word, colour, glyph); the tree shows the glyph, the editor the word."""


def title_field(fields: tuple[DatatypeField, ...]) -> str | None:
    """The name of the field that titles nodes of a datatype with these fields."""
    names = [df.field.name for df in fields]
    for wanted in TITLE_FIELDS:
        if wanted in names:
            return wanted
    for df in fields:
        if df.field.type in _TEXTUAL:
            return df.field.name
    return None


def node_title(fields: tuple[DatatypeField, ...], values: Mapping[str, str | None]) -> str:
    """A one-line title for a node: its title field's value, or ``(untitled)``."""
    name = title_field(fields)
    value = values.get(name) if name else None
    if not value:
        # no title-like field filled in: any value beats "(untitled)"
        value = next((v for v in values.values() if v and v.strip()), None)
    if not value:
        return "(untitled)"
    line = value.strip().splitlines()[0].lstrip("#>*- ").strip()
    return line[:80] or "(untitled)"


def status_text(status: ContentStatus) -> Text:
    label, style, glyph = STATUS_STYLE[status]
    return Text(f"{glyph} {label}", style=style)


def node_label(datatype_label: str, title: str, status: ContentStatus) -> Text:
    """``● Title  Datatype``: the status glyph in its colour, the title, the type dimmed."""
    _, style, glyph = STATUS_STYLE[status]
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(f"{glyph} ", style=style)
    text.append(title)
    text.append(f"  {datatype_label}", style="dim")
    return text
