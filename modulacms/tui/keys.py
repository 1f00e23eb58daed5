"""Every key and action of a screen, for the help screen and the command palette.

Bindings are declared once (on the app, the area screens and their widgets); this module
reads them back so that help, footer and palette can never disagree.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from textual.actions import parse
from textual.app import App
from textual.binding import Binding
from textual.dom import DOMNode
from textual.screen import Screen


@dataclass(frozen=True, slots=True)
class KeyHelp:
    """One binding as shown to people: where it applies, its keys and what it does."""

    section: str
    keys: str
    description: str
    action: str
    target: DOMNode


def _title(cls: type) -> str:
    words = re.sub(r"(?<!^)(?=[A-Z])", " ", cls.__name__).lower().split()
    if words and words[-1] == "screen":
        words = [*words[:-1], "area"]
    return " ".join(words).capitalize()


def _bindings(cls: type) -> list[Binding]:
    found: list[Binding] = []
    for klass in reversed(cls.__mro__):
        if klass.__module__.startswith("modulacms.") or klass is cls:
            found.extend(b for b in vars(klass).get("BINDINGS", []) if isinstance(b, Binding))
    return found


def key_help(app: App[Any], screen: Screen[Any]) -> Iterator[KeyHelp]:
    """The app's keys, then the screen's, then those of its widgets (ours only)."""
    seen: set[tuple[str, str]] = set()

    def emit(section: str, binding: Binding, target: DOMNode) -> Iterator[KeyHelp]:
        if not binding.description or (section, binding.action) in seen:
            return
        seen.add((section, binding.action))
        keys = " / ".join(
            app.get_key_display(Binding(key.strip(), binding.action))
            for key in binding.key.split(",")
        )
        yield KeyHelp(section, keys, binding.description, binding.action, target)

    for binding in _bindings(type(app)):
        yield from emit("Everywhere", binding, app)
    for binding in _bindings(type(screen)):
        yield from emit(_title(type(screen)), binding, screen)
    classes: dict[type, DOMNode] = {}
    for node in screen.query("*"):
        if type(node).__module__.startswith("modulacms."):
            classes.setdefault(type(node), node)
    for cls, owner in classes.items():
        for binding in _bindings(cls):
            namespace = parse(binding.action)[0]
            yield from emit(_title(cls), binding, screen if namespace == "screen" else owner)


def is_enabled(item: KeyHelp) -> bool:
    """True when the action may run now (per its target's ``check_action``)."""
    _, name, params = parse(item.action)
    return bool(item.target.check_action(name, params))


def bare_action(action: str) -> str:
    """``screen.reorder(1)`` → ``reorder(1)``: the action without its namespace prefix."""
    return action.split(".", 1)[1] if action.startswith(("screen.", "app.")) else action
