"""Fixtures for plugin runtime tests."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from plugin_helpers import PLUGINS


@pytest.fixture
def plugin_copy(tmp_path: Path) -> Callable[[str], Path]:
    """Copy a fixture plugin into tmp_path/plugins (for tests that modify files)."""

    def copy(name: str) -> Path:
        target = tmp_path / "plugins" / name
        shutil.copytree(PLUGINS / name, target, symlinks=True)
        return target

    return copy
