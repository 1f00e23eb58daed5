"""The one-file launcher: version, help, and unpacking into the cache folder."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from frozen_support import Frozen, bare_env

from modulacms import __version__

pytestmark = pytest.mark.frozen

VERSION_LINE = f"modulacms, version {__version__}\n"


def _cache_entries(cache: Path) -> tuple[list[Path], list[Path]]:
    """(published links, unpacked trees) in a cache folder."""
    entries = sorted(cache.iterdir())
    links = [p for p in entries if p.is_symlink()]
    trees = [p for p in entries if p.is_dir() and not p.is_symlink()]
    return links, trees


def _version(frozen: Frozen, env: dict[str, str], binary: Path | None = None) -> str:
    done = subprocess.run(
        [str(binary or frozen.path), "--version"],
        cwd=frozen.workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    return done.stdout


def test_version(frozen: Frozen) -> None:
    done = frozen.run("--version")
    assert done.stdout == VERSION_LINE
    assert done.stderr == ""


def test_help_lists_the_commands(frozen: Frozen) -> None:
    done = frozen.run("--help")
    commands = done.stdout.split("Commands:")[1]
    for name in ("init", "status", "serve", "tui", "content", "backup", "plugin"):
        assert f"\n  {name} " in commands


def test_first_start_unpacks_once_and_later_starts_reuse_it(frozen: Frozen, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    env = bare_env(tmp_path, MODULACMS_CACHE_DIR=str(cache))
    assert _version(frozen, env) == VERSION_LINE
    links, trees = _cache_entries(cache)
    assert len(links) == 1 and len(trees) == 1
    assert links[0].resolve() == trees[0].resolve()
    assert (links[0] / ".complete").is_file()
    assert os.access(links[0] / "modulacms", os.X_OK)
    assert links[0].name.startswith(f"{__version__}-")

    assert _version(frozen, env) == VERSION_LINE
    assert _cache_entries(cache) == (links, trees)


def test_concurrent_first_starts_publish_one_tree(frozen: Frozen, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    env = bare_env(tmp_path, MODULACMS_CACHE_DIR=str(cache))
    starts = [frozen.popen("--version", env=env) for _ in range(4)]
    for start in starts:
        out, err = start.communicate(timeout=60)
        assert start.returncode == 0, err
        assert out == VERSION_LINE
    links, trees = _cache_entries(cache)
    assert len(links) == 1 and len(trees) == 1
    assert links[0].resolve() == trees[0].resolve()


def test_a_deleted_tree_is_unpacked_again(frozen: Frozen, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    env = bare_env(tmp_path, MODULACMS_CACHE_DIR=str(cache))
    _version(frozen, env)
    (link,), (tree,) = _cache_entries(cache)
    subprocess.run(["rm", "-rf", str(tree)], check=True)
    assert _version(frozen, env) == VERSION_LINE
    links, trees = _cache_entries(cache)
    assert links == [link] and len(trees) == 1
    assert (link / ".complete").is_file()


def test_a_truncated_binary_says_so_and_leaves_nothing_behind(
    frozen: Frozen, tmp_path: Path
) -> None:
    broken = tmp_path / "modulacms"
    data = frozen.path.read_bytes()
    broken.write_bytes(data[: len(data) // 2])
    broken.chmod(0o755)
    cache = tmp_path / "cache"
    env = bare_env(tmp_path, MODULACMS_CACHE_DIR=str(cache))
    done = subprocess.run(
        [str(broken), "--version"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1
    assert done.stdout == ""
    assert "could not unpack the program" in done.stderr
    assert list(cache.iterdir()) == []


def test_a_bad_checksum_is_refused_even_when_the_files_unpack(
    frozen: Frozen, tmp_path: Path
) -> None:
    broken = tmp_path / "modulacms"
    data = bytearray(frozen.path.read_bytes())
    data[-6] ^= 0xFF  # inside the gzip trailer's CRC-32: every file unpacks, then gzip fails
    broken.write_bytes(bytes(data))
    broken.chmod(0o755)
    cache = tmp_path / "cache"
    env = bare_env(tmp_path, MODULACMS_CACHE_DIR=str(cache))
    done = subprocess.run(
        [str(broken), "--version"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1
    assert "could not unpack the program" in done.stderr
    assert list(cache.iterdir()) == []


@pytest.mark.parametrize("where", ["home", "xdg"])
def test_default_cache_folders(frozen: Frozen, tmp_path: Path, where: str) -> None:
    env = bare_env(tmp_path)
    expected = tmp_path / ".cache" / "modulacms"
    if where == "xdg":
        env["XDG_CACHE_HOME"] = str(tmp_path / "xdg")
        expected = tmp_path / "xdg" / "modulacms"
    assert _version(frozen, env) == VERSION_LINE
    links, _ = _cache_entries(expected)
    assert len(links) == 1


def test_without_a_home_the_cache_is_a_private_temporary_folder(
    frozen: Frozen, tmp_path: Path
) -> None:
    env = bare_env(tmp_path)
    del env["HOME"]
    assert _version(frozen, env) == VERSION_LINE
    cache = tmp_path / "tmp" / f"modulacms-{os.getuid()}"
    assert cache.stat().st_mode & 0o777 == 0o700
    links, _ = _cache_entries(cache)
    assert len(links) == 1


def test_a_planted_temporary_cache_folder_is_refused(frozen: Frozen, tmp_path: Path) -> None:
    env = bare_env(tmp_path)
    del env["HOME"]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "tmp" / f"modulacms-{os.getuid()}").symlink_to(elsewhere)
    done = subprocess.run(
        [str(frozen.path), "--version"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1
    assert "not a private folder" in done.stderr
    assert list(elsewhere.iterdir()) == []


def test_runs_when_found_on_the_path(frozen: Frozen, tmp_path: Path) -> None:
    env = dict(frozen.env, PATH=f"{frozen.path.parent}:/usr/bin:/bin")
    done = subprocess.run(
        ["modulacms", "--version"], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == VERSION_LINE
