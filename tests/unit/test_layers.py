"""Which way imports may point (STYLE.md §1), checked over every module's source."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "modulacms"

# (package, forbidden import prefixes)
RULES: list[tuple[str, tuple[str, ...]]] = [
    (
        "core",
        (
            "modulacms.db",
            "modulacms.services",
            "modulacms.http",
            "modulacms.cli",
            "modulacms.tui",
            "modulacms.plugin_runtime",
            "apsw",
            "lupa",
            "textual",
            "click",
        ),
    ),
    (
        "db",
        (
            "modulacms.services",
            "modulacms.http",
            "modulacms.cli",
            "modulacms.tui",
            "modulacms.plugin_runtime",
            "lupa",
            "textual",
            "click",
        ),
    ),
    (
        "services",
        (
            "modulacms.http",
            "modulacms.cli",
            "modulacms.tui",
            "modulacms.plugin_runtime",
            "lupa",
            "textual",
            "click",
            "apsw",
        ),
    ),
    ("plugin_runtime", ("modulacms.http", "modulacms.cli", "modulacms.tui", "textual", "click")),
    ("cli", ("modulacms.db", "apsw", "lupa", "textual")),
    ("tui", ("modulacms.db", "modulacms.plugin_runtime", "apsw", "lupa", "click")),
    ("http", ("modulacms.db", "apsw", "lupa", "textual", "click")),
]


def imports_of(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
    return found


@pytest.mark.parametrize(("package", "forbidden"), RULES, ids=[r[0] for r in RULES])
def test_package_imports_point_the_right_way(package: str, forbidden: tuple[str, ...]) -> None:
    offences = []
    for path in sorted((PACKAGE / package).rglob("*.py")):
        for name in imports_of(path):
            if any(name == f or name.startswith(f + ".") for f in forbidden):
                offences.append(f"{path.relative_to(PACKAGE.parent)} imports {name}")
    assert offences == []
