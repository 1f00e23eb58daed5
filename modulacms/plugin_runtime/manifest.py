"""The plugin manifest: the ``plugin_info`` global of ``init.lua`` (spec §1.3).

:func:`parse_manifest` validates the already-converted Lua table into a frozen
:class:`Manifest`. Every error is a :class:`ManifestError` that names the file and the
field, and keeps the original's wording (``invalid manifest: name "X" contains invalid
character ...``) so messages match the spec's tests. Non-string values of string fields
read as empty, as in the original.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from modulacms.errors import PluginLoadError

MAX_NAME = 32
RESERVED_TAGS = frozenset(
    {
        "annotation-xml",
        "color-profile",
        "font-face",
        "font-face-src",
        "font-face-name",
        "font-face-format",
        "font-face-uri",
        "missing-glyph",
    }
)


class ManifestError(PluginLoadError):
    """``plugin_info`` is missing or invalid; ``path`` and ``field`` say where."""

    def __init__(self, path: str, field: str, message: str) -> None:
        super().__init__(f"{path}: {message}", details={"field": field, "path": path})
        self.path = path
        self.field = field
        self.reason = message


@dataclass(frozen=True, slots=True)
class Capability:
    """One ``plugin_info.capabilities`` entry (metadata for the pipeline registry)."""

    table: str
    op: str
    handler: str
    priority: int


@dataclass(frozen=True, slots=True)
class Screen:
    name: str
    label: str
    icon: str
    hidden: bool


@dataclass(frozen=True, slots=True)
class Interface:
    name: str
    label: str
    mode: str


@dataclass(frozen=True, slots=True)
class UiInfo:
    tag: str
    bundle: str
    has_admin: bool


@dataclass(frozen=True, slots=True)
class Manifest:
    """A validated ``plugin_info``."""

    name: str
    version: str
    description: str
    author: str = ""
    license: str = ""
    min_cms_version: str = ""
    dependencies: tuple[str, ...] = ()
    capabilities: tuple[Capability, ...] = ()
    core_access: tuple[tuple[str, tuple[str, ...]], ...] = ()
    screens: tuple[Screen, ...] = ()
    interfaces: tuple[Interface, ...] = ()
    ui: UiInfo | None = None
    has_on_init: bool = False

    @property
    def core_access_map(self) -> dict[str, list[str]]:
        return {table: list(ops) for table, ops in self.core_access}


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    return []


def check_name(name: str) -> str | None:
    """The reason ``name`` is not a valid plugin name, or None (spec §1.3 rules)."""
    if not name:
        return "name is required"
    if len(name.encode("utf-8")) > MAX_NAME:
        return f'name "{name}" exceeds {MAX_NAME} characters'
    for ch in name:
        if ch == "_" or unicodedata.category(ch) in ("Ll", "Nd"):
            continue
        return f'name "{name}" contains invalid character "{ch}" (must be [a-z0-9_])'
    if name.endswith("_"):
        return f'name "{name}" has trailing underscore (collision prevention)'
    return None


def _ui(raw: Any, name: str, path: str) -> UiInfo | None:
    if not isinstance(raw, dict):
        return None
    tag = _text(raw.get("tag"))
    if not tag:
        return None
    expected = "mcms-" + name.replace("_", "-")
    problem = None
    if tag != expected:
        problem = f'ui.tag "{tag}" must be "{expected}"'
    elif len(tag) > 64 or not ("a" <= tag[0] <= "z") or "-" not in tag:
        problem = f'ui.tag "{tag}" is not a valid custom element name'
    elif any(not (c.isascii() and (c.islower() or c.isdigit() or c == "-")) for c in tag):
        problem = f'ui.tag "{tag}" may only contain [a-z0-9-]'
    elif tag in RESERVED_TAGS:
        problem = f'ui.tag "{tag}" is a reserved element name'
    if problem:
        raise ManifestError(path, "ui.tag", f"invalid manifest: {problem}")
    return UiInfo(tag=tag, bundle=_text(raw.get("bundle")), has_admin=raw.get("has_admin") is True)


def _core_access(raw: Any) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if not isinstance(raw, dict):
        return ()
    out = []
    for table in sorted(raw):
        ops = tuple(op for op in _list(raw[table]) if isinstance(op, str))
        out.append((table, ops))
    return tuple(out)


def _number(value: Any, default: int) -> int:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value)
    return default


def parse_manifest(raw: Any, *, path: str, has_on_init: bool = False) -> Manifest:
    """Validate a converted ``plugin_info`` value (``None`` when the global is missing)."""
    if not isinstance(raw, Mapping):
        raise ManifestError(path, "plugin_info", "missing required plugin_info global")
    name = _text(raw.get("name"))
    problem = check_name(name)
    if problem:
        raise ManifestError(path, "name", f"invalid manifest: {problem}")
    version = _text(raw.get("version"))
    if not version:
        raise ManifestError(path, "version", "invalid manifest: version is required")
    description = _text(raw.get("description"))
    if not description:
        raise ManifestError(path, "description", "invalid manifest: description is required")
    capabilities = tuple(
        Capability(
            table=_text(c.get("table")),
            op=_text(c.get("op")),
            handler=_text(c.get("handler")),
            priority=_number(c.get("priority"), 100),
        )
        for c in _list(raw.get("capabilities"))
        if isinstance(c, dict)
    )
    screens = tuple(
        Screen(
            name=_text(s.get("name")),
            label=_text(s.get("label")),
            icon=_text(s.get("icon")),
            hidden=s.get("hidden") is True,
        )
        for s in _list(raw.get("screens"))
        if isinstance(s, dict) and _text(s.get("name"))
    )
    interfaces = tuple(
        Interface(
            name=_text(i.get("name")),
            label=_text(i.get("label")),
            mode=_text(i.get("mode")) or "inline",
        )
        for i in _list(raw.get("interfaces"))
        if isinstance(i, dict)
    )
    return Manifest(
        name=name,
        version=version,
        description=description,
        author=_text(raw.get("author")),
        license=_text(raw.get("license")),
        min_cms_version=_text(raw.get("min_cms_version")),
        dependencies=tuple(d for d in _list(raw.get("dependencies")) if isinstance(d, str)),
        capabilities=capabilities,
        core_access=_core_access(raw.get("core_access")),
        screens=screens,
        interfaces=interfaces,
        ui=_ui(raw.get("ui"), name, path),
        has_on_init=has_on_init,
    )
