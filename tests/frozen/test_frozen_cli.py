"""The CLI of the built binary on a demo project it created itself."""

from __future__ import annotations

import json
from typing import Any

import pytest
from frozen_support import ADMIN_EMAIL, Frozen, Site

pytestmark = pytest.mark.frozen


def _json(done: Any) -> Any:
    return json.loads(done.stdout)


def test_init_demo_creates_the_project(site: Site) -> None:
    report = _json(site.init)
    assert report["created"] is True
    assert report["admin_email"] == ADMIN_EMAIL
    assert report["generated_password"] is None
    assert report["demo"]["routes"] >= 2 and report["demo"]["nodes"] > 10
    for name in ("modulacms.toml", "modulacms.db"):
        assert (site.root / name).is_file()
    for folder in ("plugins", "media", "backups"):
        assert (site.root / folder).is_dir()
    # the migrations shipped inside the binary were applied
    assert (site.root / "modulacms.db").read_bytes()[:16] == b"SQLite format 3\x00"


def test_init_demo_installs_the_bundled_plugins(site: Site) -> None:
    plugins = _json(site.init)["plugins"]
    assert plugins, "the binary ships no bundled plugin"
    for name in plugins:
        assert (site.root / "plugins" / name / "init.lua").is_file()


def test_status(frozen: Frozen, site: Site) -> None:
    report = _json(frozen.run("--project", "site", "status", "--json"))
    assert report["project"] == str(site.root)
    assert report["schema_version"] == report["latest_schema_version"] >= 1
    assert report["counts"]["routes"] == report["counts"]["routes_published"] >= 2
    assert report["counts"]["users"] == 1
    assert report["server_running"] is False


def test_status_finds_the_project_from_inside_it(frozen: Frozen, site: Site) -> None:
    done = frozen.run("status", cwd=site.root / "media")
    assert str(site.root) in done.stdout
    assert "schema" in done.stdout


def test_content_tree_of_the_home_page(frozen: Frozen, site: Site) -> None:
    tree = _json(frozen.run("--project", "site", "content", "tree", "/", "--json"))
    assert tree["route"]["slug"] == "/"
    assert tree["root"]["datatype"] == "page"
    assert tree["root"]["children"]

    text = frozen.run("--project", "site", "content", "tree", "/").stdout
    first = text.splitlines()[0]
    assert first.startswith("/ ") and "published" in first
    assert "└── " in text


def test_a_bad_argument_is_one_line_on_stderr(frozen: Frozen, site: Site) -> None:
    done = frozen.run("--project", "site", "content", "tree", "/no-such-page", check=False)
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.startswith("Error: ")
    assert len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr


def test_plugin_list(frozen: Frozen, site: Site) -> None:
    bundled = set(_json(site.init)["plugins"])
    listed = _json(frozen.run("--project", "site", "plugin", "list", "--json"))
    rows = listed["data"] if isinstance(listed, dict) else listed
    valid = {row["name"] for row in rows if row["valid"]}
    assert bundled <= valid, rows


def test_bundled_plugins_pass_their_own_lua_tests(frozen: Frozen, site: Site) -> None:
    # runs each plugin's test/*.test.lua in the binary's own Lua runtime
    for name in _json(site.init)["plugins"]:
        done = frozen.run("--project", "site", "plugin", "test", f"site/plugins/{name}")
        summary = done.stdout.strip().splitlines()[-1]
        assert " passed, 0 failed" in summary, done.stdout
        assert not summary.startswith("0 passed"), done.stdout


def test_backup_create(frozen: Frozen, site: Site) -> None:
    info = _json(frozen.run("--project", "site", "backup", "create", "--json"))
    backup = site.root / "backups" / info["name"]
    assert info["path"] == str(backup)
    assert backup.stat().st_size == info["size"] > 0
    assert backup.read_bytes()[:16] == b"SQLite format 3\x00"
    listed = _json(frozen.run("--project", "site", "backup", "list", "--json"))
    assert info["name"] in {b["name"] for b in listed}
