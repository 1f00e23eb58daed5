"""Fixtures for the tests of the built binary: the copied binary and a demo project."""

from __future__ import annotations

import shutil

import pytest
from frozen_support import ADMIN_EMAIL, ADMIN_PASSWORD, Frozen, Site, bare_env, built_binary


@pytest.fixture(scope="session")
def frozen(tmp_path_factory: pytest.TempPathFactory) -> Frozen:
    """The binary, alone in a folder of its own, and an empty working folder."""
    base = tmp_path_factory.mktemp("frozen")
    binary = base / "bin" / "modulacms"
    binary.parent.mkdir()
    shutil.copy2(built_binary(), binary)
    home, cache, workdir = base / "home", base / "cache", base / "work"
    for folder in (home, workdir):
        folder.mkdir()
    env = bare_env(home, MODULACMS_CACHE_DIR=str(cache))
    return Frozen(binary, home, cache, workdir, env)


@pytest.fixture(scope="session")
def site(frozen: Frozen) -> Site:
    """A demo project made by the binary in its empty working folder."""
    done = frozen.run(
        "init",
        "site",
        "--demo",
        "--admin-email",
        ADMIN_EMAIL,
        "--admin-password",
        ADMIN_PASSWORD,
        "--json",
        timeout=120,
    )
    return Site(frozen.workdir / "site", done)
