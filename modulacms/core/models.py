"""Domain models: frozen dataclasses returned by repositories and services."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from enum import StrEnum
from typing import Any, TypeVar

from modulacms.errors import Forbidden

_T = TypeVar("_T")
_MAKERS: dict[type[Any], Callable[[Sequence[Any]], Any]] = {}


def maker_for(
    cls: type[_T], converters: Mapping[int, Callable[[Any], Any]] | None = None
) -> Callable[[Sequence[Any]], _T]:
    """A constructor for the frozen, slotted dataclass ``cls`` taking its field values in
    declaration order, for trusted rows on hot read paths.

    The generated ``__init__`` of a frozen dataclass routes every field through
    ``object.__setattr__`` (about 3 us for a 17-field row); loading a route builds one
    model per node, so this writes each slot through its descriptor instead, in generated
    straight-line code (as ``dataclasses`` itself generates ``__init__``). ``converters``
    maps a position to a function applied to that value. Nothing else is converted or
    validated; ``values`` must hold exactly one value per field.
    """
    names = [f.name for f in fields(cls)]  # type: ignore[arg-type]
    count = len(names)
    namespace: dict[str, Any] = {"new": object.__new__, "cls": cls}
    lines = [
        "def make(values):",
        f"    if len(values) != {count}:",
        f"        raise ValueError({f'{cls.__name__} takes {count} values'!r})",
        "    obj = new(cls)",
    ]
    for index, name in enumerate(names):
        namespace[f"s{index}"] = getattr(cls, name).__set__
        value = f"values[{index}]"
        if converters and index in converters:
            namespace[f"c{index}"] = converters[index]
            value = f"c{index}({value})"
        lines.append(f"    s{index}(obj, {value})")
    lines.append("    return obj")
    exec("\n".join(lines) + "\n", namespace)
    maker: Callable[[Sequence[Any]], _T] = namespace["make"]
    return maker


def from_values(cls: type[_T], values: Sequence[Any]) -> _T:
    """Build ``cls`` from its field values in order (see :func:`maker_for`)."""
    maker = _MAKERS.get(cls)
    if maker is None:
        maker = _MAKERS[cls] = maker_for(cls)
    result: _T = maker(values)
    return result


class ActorKind(StrEnum):
    """Who performed a change, as recorded in the audit log."""

    USER = "user"
    SYSTEM = "system"
    PLUGIN = "plugin"


@dataclass(frozen=True, slots=True)
class Actor:
    """The one on whose behalf a service call runs.

    ``user_id`` is ``None`` for the system (scheduler, migrations, demo seeding) and for
    plugins (whose name is in ``name``). ``permissions`` holds ``resource:operation``
    labels; the system actor holds ``"*"``.
    """

    kind: ActorKind
    user_id: str | None = None
    name: str = ""
    permissions: frozenset[str] = frozenset()

    @classmethod
    def system(cls, name: str = "system") -> Actor:
        return cls(ActorKind.SYSTEM, None, name, frozenset({"*"}))

    @classmethod
    def plugin(cls, plugin_name: str) -> Actor:
        return cls(ActorKind.PLUGIN, None, plugin_name, frozenset({"*"}))

    def can(self, permission: str) -> bool:
        """True when the actor holds ``permission`` (or the wildcard)."""
        return "*" in self.permissions or permission in self.permissions

    def require(self, permission: str) -> None:
        """Raise ``Forbidden`` unless the actor holds ``permission``."""
        if not self.can(permission):
            who = self.name or self.user_id or self.kind.value
            raise Forbidden(f"{who} lacks the permission {permission}")


@dataclass(frozen=True, slots=True)
class ChangeEvent:
    """One row of the audit log."""

    event_id: str
    actor_id: str | None
    actor_kind: str
    actor_name: str
    table_name: str
    record_id: str
    operation: str
    old_values: dict[str, object] | None
    new_values: dict[str, object] | None
    date_created: str


class FieldType(StrEnum):
    """The field types a datatype can use."""

    TEXT = "text"
    TEXTAREA = "textarea"
    RICHTEXT = "richtext"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "datetime"
    SELECT = "select"
    EMAIL = "email"
    URL = "url"
    SLUG = "slug"
    JSON = "json"
    MEDIA = "media"
    REFERENCE = "reference"


class ContentStatus(StrEnum):
    """The life cycle of a content node."""

    DRAFT = "draft"
    SCHEDULED = "scheduled"
    PUBLISHED = "published"
    ARCHIVED = "archived"


@dataclass(frozen=True, slots=True)
class Site:
    site_id: str
    name: str
    label: str
    hostname: str | None
    is_default: bool
    date_created: str
    date_modified: str


@dataclass(frozen=True, slots=True)
class Route:
    """A slug that owns one content tree; ``published_version_id`` is None when unpublished."""

    route_id: str
    site_id: str
    slug: str
    title: str
    published_version_id: str | None
    author_id: str | None
    date_created: str
    date_modified: str

    @property
    def is_published(self) -> bool:
        return self.published_version_id is not None


@dataclass(frozen=True, slots=True)
class Datatype:
    datatype_id: str
    name: str
    label: str
    description: str
    author_id: str | None
    date_created: str
    date_modified: str


@dataclass(frozen=True, slots=True)
class Field:
    """A reusable field definition; ``validation`` holds the type's rules (see core.validation)."""

    field_id: str
    name: str
    label: str
    type: FieldType
    validation: dict[str, Any]
    ui_config: dict[str, Any]
    translatable: bool
    author_id: str | None
    date_created: str
    date_modified: str


@dataclass(frozen=True, slots=True)
class DatatypeField:
    """A field as attached to a datatype: its position and whether it is required."""

    datatype_id: str
    field: Field
    sort_order: int
    required: bool


@dataclass(frozen=True, slots=True)
class ContentNode:
    """One row of the content tree (``content_data``)."""

    content_data_id: str
    parent_id: str | None
    first_child_id: str | None
    next_sibling_id: str | None
    prev_sibling_id: str | None
    root_id: str
    route_id: str
    datatype_id: str
    author_id: str | None
    status: ContentStatus
    publish_at: str | None
    published_at: str | None
    published_by: str | None
    revision: int
    trashed_at: str | None
    date_created: str
    date_modified: str


@dataclass(frozen=True, slots=True)
class TreeNode:
    """A node of an assembled route tree: the node, its datatype, its values and children.

    ``values`` maps field name to stored text (``None`` when empty) for the requested
    locale; ``fields`` lists the datatype's fields in order.
    """

    node: ContentNode
    datatype: Datatype
    fields: tuple[DatatypeField, ...]
    values: dict[str, str | None]
    children: tuple[TreeNode, ...]

    @property
    def id(self) -> str:
        return self.node.content_data_id

    def walk(self) -> Iterator[TreeNode]:
        """This node and every descendant, depth first in sibling order."""
        stack = [self]
        while stack:
            current = stack.pop()
            yield current
            stack.extend(reversed(current.children))


@dataclass(frozen=True, slots=True)
class RouteTree:
    """A route with its assembled content tree (``root`` is None for an empty route)."""

    route: Route
    root: TreeNode | None
    node_count: int


@dataclass(frozen=True, slots=True)
class ContentVersion:
    """A numbered snapshot of a route's tree (``kind`` is published or autosave)."""

    version_id: str
    route_id: str
    version: int
    kind: str
    node_count: int
    note: str
    published_by: str | None
    date_created: str


@dataclass(frozen=True, slots=True)
class CreatedContent:
    """What create-with-fields returns: the new node id and the ids of its value rows."""

    content_data_id: str
    content_field_ids: dict[str, str]
    revision: int


@dataclass(frozen=True, slots=True)
class TrashEntry:
    """A deleted subtree waiting in the trash."""

    content_data_id: str
    route_id: str
    parent_id: str | None
    datatype_id: str
    node_count: int
    trashed_at: str


@dataclass(frozen=True, slots=True)
class HealReport:
    """Problems found in pointer chains, and whether they were repaired."""

    problems: tuple[str, ...]
    repaired: bool
    nodes_checked: int


@dataclass(frozen=True, slots=True)
class ContentItem:
    """One node with what an editor needs: its datatype, fields in order and values."""

    node: ContentNode
    datatype: Datatype
    fields: tuple[DatatypeField, ...]
    values: dict[str, str | None]


@dataclass(frozen=True, slots=True)
class MediaDimension:
    """A size of a media file (``original`` is the file itself)."""

    label: str
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class Media:
    """A file in the project's media folder; ``filename`` is its name inside that folder."""

    media_id: str
    name: str
    filename: str
    mime_type: str
    size: int
    alt: str
    author_id: str | None
    date_created: str
    date_modified: str
    dimensions: tuple[MediaDimension, ...] = ()
