"""Textual key names as a plugin screen expects them (the Go original's names).

Printable characters are sent as the character itself (``r``, ``R``, ``?``); named keys
use the original's spelling: ``enter``, ``tab``, ``shift+tab``, ``backspace``,
``delete``, ``insert``, ``up``, ``down``, ``left``, ``right``, ``home``, ``end``,
``pgup``, ``pgdown``, ``space``, ``f1``…``f12`` and modifier combinations such as
``ctrl+s`` or ``shift+up``. ``escape`` never reaches the screen: it closes it.
"""

from __future__ import annotations

RENAMED = {"pageup": "pgup", "pagedown": "pgdown", "escape": "esc"}
CLOSE_KEY = "escape"


def screen_key(key: str, character: str | None) -> str:
    """The protocol name of a key press (``key`` and ``character`` as Textual gives them)."""
    if character and len(character) == 1 and character.isprintable() and character != " ":
        if "+" not in key or key.startswith("shift+"):
            return character
    parts = key.split("+")
    parts[-1] = RENAMED.get(parts[-1], parts[-1])
    return "+".join(parts).lower()
