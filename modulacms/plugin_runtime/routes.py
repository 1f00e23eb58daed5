"""Plugin HTTP route rules: registration checks (spec §6.1) and matching (§6.2).

A route path is a Go 1.22 ServeMux pattern without host or method: ``/items/{id}``
(a ``{name}`` segment matches exactly one non-empty segment, URL-unescaped) or
``/files/`` (a trailing slash matches the whole subtree). When several routes match, the
most specific wins: an exact pattern beats a subtree, then more literal segments win,
then longer patterns. ``GET`` routes also answer ``HEAD``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH")
MAX_PATH = 256
_PATH_CHARS = re.compile(r"[A-Za-z0-9/_{}.\-]*")
_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
PREFIX = "/api/v1/plugins/"


class RouteError(ValueError):
    """A route registration that breaks a rule; the message is the Lua error text."""


def check_method(method: str) -> None:
    if method not in METHODS:
        raise RouteError("invalid HTTP method: must be GET, POST, PUT, DELETE, or PATCH")


def check_path(path: str) -> None:
    """Spec §6.1 path rules, plus: ``{…}`` must be a whole segment with a valid name."""
    problem = None
    if not path.startswith("/"):
        problem = "must start with /"
    elif len(path.encode("utf-8")) > MAX_PATH:
        problem = f"longer than {MAX_PATH} bytes"
    elif ".." in path or "?" in path or "#" in path:
        problem = "must not contain '..', '?' or '#'"
    elif not _PATH_CHARS.fullmatch(path):
        problem = "only letters, digits and / _ { } . - are allowed"
    else:
        names = set()
        for segment in path.split("/"):
            if "{" in segment or "}" in segment:
                match = _PARAM.fullmatch(segment)
                if match is None:
                    problem = f'wildcard segment "{segment}" must be "{{name}}"'
                    break
                if match.group(1) in names:
                    problem = f'duplicate wildcard "{segment}"'
                    break
                names.add(match.group(1))
    if problem:
        raise RouteError(f"invalid route path: {path!r} {problem}")


@dataclass(frozen=True, slots=True)
class RoutePattern:
    """A parsed route path."""

    path: str
    segments: tuple[str, ...]
    params: tuple[str | None, ...]
    subtree: bool

    @classmethod
    def parse(cls, path: str) -> RoutePattern:
        subtree = path.endswith("/") and path != "/"
        body = path.strip("/")
        segments = tuple(body.split("/")) if body else ()
        params = tuple((m.group(1) if (m := _PARAM.fullmatch(s)) else None) for s in segments)
        return cls(path, segments, params, subtree or path == "/")

    @property
    def specificity(self) -> tuple[int, int, int]:
        literals = sum(1 for p in self.params if p is None)
        return (0 if self.subtree else 1, literals, len(self.segments))

    def match(self, path: str) -> dict[str, str] | None:
        """Path parameters when ``path`` (relative to the plugin) matches, else None."""
        parts = path.strip("/").split("/") if path.strip("/") else []
        if self.subtree:
            if len(parts) < len(self.segments):
                return None
            if len(parts) == len(self.segments) and not path.endswith("/") and self.segments:
                # "/files/" also matches "/files" only via redirect in Go; require the slash.
                return None
        elif len(parts) != len(self.segments) or (path.endswith("/") and path != "/"):
            return None
        values: dict[str, str] = {}
        for segment, param, part in zip(self.segments, self.params, parts, strict=False):
            if param is None:
                if unquote(part) != segment:
                    return None
            else:
                if not part:
                    return None
                values[param] = unquote(part)
        return values


def split_plugin_path(path: str) -> tuple[str, str] | None:
    """``/api/v1/plugins/shop/products`` → ``("shop", "/products")``."""
    if not path.startswith(PREFIX):
        return None
    rest = path[len(PREFIX) :]
    name, slash, sub = rest.partition("/")
    if not name:
        return None
    return name, slash + sub if slash else "/"


def best_match(
    candidates: list[tuple[RoutePattern, object]], method: str, path: str
) -> tuple[object, dict[str, str]] | None:
    """The most specific ``(value, params)`` among ``candidates`` matching ``path``."""
    best: tuple[tuple[int, int, int], object, dict[str, str]] | None = None
    for pattern, value in candidates:
        params = pattern.match(path)
        if params is None:
            continue
        if best is None or pattern.specificity > best[0]:
            best = (pattern.specificity, value, params)
    if best is None:
        return None
    return best[1], best[2]
