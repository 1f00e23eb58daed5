"""Fixtures for plugin runtime tests."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable, Iterator
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


@pytest.fixture(autouse=True)
def propagate_logs() -> Iterator[None]:
    """CLI tests configure logging (the modulacms logger stops propagating); log
    assertions here need records to reach pytest's capture handler."""
    logger = logging.getLogger("modulacms")
    previous = logger.propagate, logger.level
    logger.propagate, logger.level = True, logging.NOTSET
    yield
    logger.propagate, logger.level = previous
