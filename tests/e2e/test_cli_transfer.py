"""Export/import and backup/restore round trips through the CLI, and `serve` registering
itself so that a restore is refused while it runs."""

from __future__ import annotations

import io
import json
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from cli_support import ADMIN, copy_project, db_state, make_demo, one_line_error, run, run_process

from modulacms.app import build_app
from modulacms.services.delivery import FORMATS, render


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_demo(tmp_path_factory.mktemp("template") / "site")


@pytest.fixture
def site(template: Path, tmp_path: Path) -> Path:
    return copy_project(template, tmp_path / "site")


def delivered(project: Path) -> dict[str, Any]:
    """What every published route delivers, in every format."""
    with build_app(project / "modulacms.db") as app:
        return {
            route.slug: {
                f: render(app.services.publishing.snapshot(route.slug), f) for f in FORMATS
            }
            for route in app.services.routes.list()
            if route.is_published
        }


def drafts(project: Path) -> dict[str, Any]:
    out = run(["--project", str(project), "route", "list", "--json"])
    slugs = [r["slug"] for r in json.loads(out.stdout)]
    trees = {}
    for slug in slugs:
        tree = json.loads(
            run(["--project", str(project), "content", "tree", slug, "--json"]).stdout
        )
        trees[slug] = tree["root"]
    return trees


def test_site_round_trip_delivers_the_same_json(site: Path, tmp_path: Path) -> None:
    # a draft edited after publishing must not leak into what the copy delivers
    root = json.loads(run(["--project", str(site), "content", "tree", "/", "--json"]).stdout)
    run(["--project", str(site), "content", "set", root["root"]["id"], "--field", "title=Draft"])
    exported = run_process(["--project", str(site), "export", str(tmp_path / "site.json")])
    assert exported.returncode == 0, exported.stderr
    assert "exported 8 routes" in exported.stdout
    other = make_empty(tmp_path / "other")
    imported = run_process(["--project", str(other), "import", str(tmp_path / "site.json")])
    assert imported.returncode == 0, imported.stderr
    assert delivered(other) == delivered(site)
    assert drafts(other) == drafts(site)
    assert json.loads(run(["--project", str(other), "db", "check", "--json"]).stdout)["ok"]


def make_empty(target: Path) -> Path:
    assert run(["init", str(target), *ADMIN]).exit_code == 0
    return target


def test_route_export_with_new_ids_into_the_same_project(site: Path, tmp_path: Path) -> None:
    document = run(["--project", str(site), "export", "-", "--route", "/about"])
    assert document.exit_code == 0
    data = json.loads(document.stdout)
    assert data["scope"] == "/about" and len(data["routes"]) == 1
    data["routes"][0]["route"]["slug"] = "/about-copy"
    text = json.dumps(data)
    clash = run(["--project", str(site), "import", "-"], input=text)
    assert clash.exit_code == 1 and "import with new ids" in one_line_error(clash.stderr)
    with build_app(site / "modulacms.db") as app:
        before = app.services.query.query("page", limit=100).total
    copied = run(["--project", str(site), "import", "-", "--new-ids", "--json"], input=text)
    assert json.loads(copied.stdout)["routes"] == 1
    with build_app(site / "modulacms.db") as app:
        pages = app.services.query.query("page", limit=100)
    # the copy's published page is in the query index under its new id and route
    assert pages.total == before + 1
    assert "/about-copy" in {item.route for item in pages.items}
    both = delivered(site)
    assert both["/about-copy"]["clean"]["title"] == both["/about"]["clean"]["title"]
    assert both["/about-copy"]["clean"]["id"] != both["/about"]["clean"]["id"]


def test_import_errors_change_nothing(site: Path, tmp_path: Path) -> None:
    exported = tmp_path / "site.json"
    assert run(["--project", str(site), "export", str(exported)]).exit_code == 0
    before = db_state(site)
    again = run(["--project", str(site), "import", str(exported)])
    assert again.exit_code == 1 and "already exists" in one_line_error(again.stderr)
    (tmp_path / "bad.json").write_text("{not json")
    bad = run(["--project", str(site), "import", str(tmp_path / "bad.json")])
    assert bad.exit_code == 1 and "is not valid JSON" in one_line_error(bad.stderr)
    wrong = run(["--project", str(site), "import", "-"], input='{"format": "other"}')
    assert "not a valid ModulaCMS export" in one_line_error(wrong.stderr)
    missing = run(["--project", str(site), "import", str(tmp_path / "nope.json")])
    assert "no such file" in one_line_error(missing.stderr)
    assert db_state(site) == before
    other = make_empty(tmp_path / "other")
    empty = db_state(other)
    lines = exported.read_text().splitlines()
    cut = tmp_path / "cut.json"
    cut.write_text("\n".join(lines[:4]) + "\n")
    truncated = run(["--project", str(other), "import", str(cut)])
    assert "ends before its closing" in one_line_error(truncated.stderr)
    lines[3] = lines[3][:-20]
    cut.write_text("\n".join(lines) + "\n")
    broken = run(["--project", str(other), "import", str(cut)])
    assert "line 4 of the export is not valid JSON" in one_line_error(broken.stderr)
    assert db_state(other) == empty


def test_a_pretty_export_imports_too(site: Path, tmp_path: Path) -> None:
    pretty = tmp_path / "pretty.json"
    assert run(["--project", str(site), "export", str(pretty), "--pretty"]).exit_code == 0
    assert pretty.read_text().count("\n") > 500
    other = make_empty(tmp_path / "other")
    imported = run(["--project", str(other), "import", str(pretty), "--json"])
    assert json.loads(imported.stdout)["routes"] == 8
    assert delivered(other) == delivered(site)


def test_backup_and_restore_round_trip(site: Path) -> None:
    made = json.loads(run(["--project", str(site), "backup", "create", "--json"]).stdout)
    assert Path(made["path"]).is_file()
    before = delivered(site)
    assert run(["--project", str(site), "content", "unpublish", "/about"]).exit_code == 0
    assert "/about" not in delivered(site)
    restored = run(["--project", str(site), "backup", "restore", made["name"], "--json"])
    assert restored.exit_code == 0, restored.output
    report = json.loads(restored.stdout)
    assert report["restored"]["name"] == made["name"]
    assert delivered(site) == before
    names = [
        b["name"]
        for b in json.loads(run(["--project", str(site), "backup", "list", "--json"]).stdout)
    ]
    assert names == [made["name"], report["safety_backup"]["name"]]
    unknown = run(["--project", str(site), "backup", "restore", "nope.db"])
    assert "no backup named nope.db" in one_line_error(unknown.stderr)


def test_restore_is_refused_while_a_server_runs(site: Path) -> None:
    made = json.loads(run(["--project", str(site), "backup", "create", "--json"]).stdout)
    server = subprocess.Popen(
        [sys.executable, "-m", "modulacms", "--project", str(site), "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert server.stdout is not None
        first = server.stdout.readline()
        assert first.startswith("serving "), first
        url = first.split(" at ")[1].split()[0]
        with urllib.request.urlopen(f"{url}/api/v1/content/about", timeout=10) as response:
            assert json.load(response)["title"] == "About us"
        status = json.loads(run(["--project", str(site), "status", "--json"]).stdout)
        assert status["server_running"] is True and status["in_use"][0]["url"] == url
        refused = run(["--project", str(site), "backup", "restore", made["name"]])
        assert refused.exit_code == 1
        assert "in use by a server" in one_line_error(refused.stderr)
        forced = run(["--project", str(site), "backup", "restore", made["name"], "--force"])
        assert forced.exit_code == 0, forced.output
    finally:
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=30)
    assert server.returncode == 0
    status = json.loads(run(["--project", str(site), "status", "--json"]).stdout)
    assert status["server_running"] is False


def test_export_reads_one_snapshot_without_holding_up_writers(site: Path) -> None:
    from modulacms.core.models import Actor
    from modulacms.services.transfer import Transfer

    actor = Actor.system("test")
    with build_app(site / "modulacms.db") as app, build_app(site / "modulacms.db") as other:

        class Out(io.StringIO):
            elapsed = -1.0

            def write(self, text: str) -> int:
                if self.elapsed < 0:
                    # another connection edits while the export is under way
                    start = time.monotonic()
                    other.services.routes.update("/about", actor, title="Changed meanwhile")
                    self.elapsed = time.monotonic() - start
                return super().write(text)

        out = Out()
        Transfer(app.db, app.services).export(out, actor)
        assert 0 <= out.elapsed < 1.0
        titles = {
            r["route"]["slug"]: r["route"]["title"] for r in json.loads(out.getvalue())["routes"]
        }
        assert titles["/about"] == "About us"
        assert other.services.routes.get("/about").title == "Changed meanwhile"
