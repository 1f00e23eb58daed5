"""The top line: the project and the areas, with their keys; click one to go there."""

from __future__ import annotations

from textual.widgets import Static

from modulacms.tui.text import esc

AREAS: tuple[tuple[str, str, str], ...] = (
    ("content", "Content", "f2"),
    ("schema", "Schema", "f3"),
    ("routes", "Routes", "f4"),
    ("users", "Users", "f5"),
    ("plugins", "Plugins", "f6"),
    ("activity", "Activity", "f7"),
)
"""(mode, title, key) of every area, in the order they are shown."""


class AreaBar(Static):
    DEFAULT_CSS = """
    AreaBar { height: 1; background: $panel; color: $text; padding: 0 1; }
    """

    def __init__(self, current: str, project: str = "") -> None:
        super().__init__(id="area-bar")
        self.current, self.project = current, project

    def on_mount(self) -> None:
        parts = [f"[b]{esc(self.project or 'ModulaCMS')}[/b] "]
        for mode, title, key in AREAS:
            label = f"{key.upper()} {title}"
            if mode == self.current:
                parts.append(f"[reverse b] {label} [/]")
            else:
                parts.append(f"[@click=app.area('{mode}')] {label} [/]")
        self.update("".join(parts))
