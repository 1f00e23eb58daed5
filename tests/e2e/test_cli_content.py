"""Schema, routes and content through the CLI, including every error path: each exits
non-zero with one line on stderr and leaves the database exactly as it was."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cli_support import copy_project, db_state, make_demo, one_line_error, run, run_process


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_demo(tmp_path_factory.mktemp("template") / "site")


@pytest.fixture
def site(template: Path, tmp_path: Path) -> Path:
    return copy_project(template, tmp_path / "site")


def cli(site: Path, *args: str, input: str | None = None) -> Any:
    """Run a command that must succeed and return its --json output."""
    result = run(["--project", str(site), *args, "--json"], input=input)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def fails(site: Path, *args: str, input: str | None = None, code: int = 1) -> str:
    """Run a command that must fail without changing the database; return its error line."""
    before = db_state(site)
    result = run(["--project", str(site), *args], input=input)
    assert result.exit_code == code, result.output
    assert result.stdout == ""
    assert db_state(site) == before
    return one_line_error(result.stderr)


def test_the_contract_examples(site: Path) -> None:
    assert cli(site, "datatype", "create", "note", "--label", "Note")["name"] == "note"
    field = cli(site, "field", "create", "note_body", "--type", "text", "--label", "Body")
    assert field["type"] == "text"
    assert cli(site, "datatype", "attach", "note", "note_body")["name"] == "note_body"
    assert cli(site, "route", "create", "/notes", "--title", "Notes")["slug"] == "/notes"
    created = cli(
        site,
        "content",
        "create",
        "--route",
        "/notes",
        "--datatype",
        "note",
        "--field",
        "note_body=hello",
    )
    assert created["fields"] == {"note_body": "hello"} and created["status"] == "draft"
    tree = run(["--project", str(site), "content", "tree", "/notes"])
    assert tree.exit_code == 0
    assert f'note "hello"  draft  {created["id"]}' in tree.stdout
    version = cli(site, "content", "publish", "/notes")
    assert version["version"] == 1 and version["node_count"] == 1
    assert cli(site, "route", "show", "/notes")["published"] is True


def test_edit_move_reorder_and_trash(site: Path) -> None:
    tree = cli(site, "content", "tree", "/about")
    root = tree["root"]
    story, team = root["children"][1], root["children"][2]
    block = story["children"][0]
    moved = cli(site, "content", "move", block["id"], "--parent", team["id"])
    assert moved["parent_id"] == team["id"]
    kids = [c["id"] for c in cli(site, "content", "tree", "/about")["root"]["children"]]
    cli(site, "content", "reorder", root["id"], *reversed(kids))
    again = cli(site, "content", "tree", "/about")["root"]["children"]
    assert [c["id"] for c in again] == list(reversed(kids))
    edited = cli(
        site,
        "content",
        "set",
        block["id"],
        "--field",
        "body=Edited **text**",
        "--revision",
        str(moved["revision"]),
    )
    assert edited["fields"]["body"] == "Edited **text**"
    assert edited["revision"] == moved["revision"] + 1
    assert cli(site, "content", "delete", team["id"])["trashed"] == 5
    assert [e["id"] for e in cli(site, "content", "trash")] == [team["id"]]
    cli(site, "content", "restore", team["id"])
    cli(site, "content", "delete", team["id"])
    assert cli(site, "content", "purge", team["id"])["purged"] == 5
    assert cli(site, "db", "check")["ok"] is True


def test_values_from_stdin_are_typed(site: Path) -> None:
    post = cli(site, "content", "tree", "/blog/release-0-1")["root"]
    document = json.dumps({"reading_minutes": 12, "featured": True, "tags": ["a", "b"]})
    changed = cli(site, "content", "set", post["id"], "--stdin", input=document)
    assert changed["fields"]["reading_minutes"] == 12
    assert changed["fields"]["featured"] is True and changed["fields"]["tags"] == ["a", "b"]
    shown = cli(site, "content", "show", post["id"])
    assert shown["fields"] == changed["fields"] and shown["datatype"] == "blog_post"


def test_publish_versions_rollback_and_schedule(site: Path) -> None:
    root = cli(site, "content", "tree", "/about")["root"]
    cli(site, "content", "set", root["id"], "--field", "title=About the team")
    assert cli(site, "content", "publish", "/about", "--note", "retitled")["version"] == 2
    versions = cli(site, "content", "versions", "/about")
    assert [v["version"] for v in versions] == [2, 1] and versions[0]["note"] == "retitled"
    rolled = cli(site, "content", "rollback", "/about", "1")
    assert rolled["version"] == 4  # 3 is the autosave of the draft it replaced
    assert cli(site, "content", "tree", "/about")["root"]["fields"]["title"] == "About us"
    assert cli(site, "content", "unpublish", "/about")["published"] is False
    scheduled = cli(site, "content", "schedule", "/about", "--at", "2099-01-01T09:00:00Z")
    assert scheduled["status"] == "scheduled" and scheduled["publish_at"].startswith("2099")


def test_schema_commands(site: Path) -> None:
    cli(site, "field", "create", "mood", "--type", "select", "--options", "calm,busy")
    cli(site, "datatype", "create", "status_note")
    cli(site, "datatype", "attach", "status_note", "mood", "--required")
    cli(site, "datatype", "attach", "status_note", "title")
    order = cli(site, "datatype", "reorder", "status_note", "title", "mood")
    assert [f["name"] for f in order] == ["title", "mood"]
    cli(site, "datatype", "require", "status_note", "mood", "--off")
    shown = cli(site, "datatype", "show", "status_note")
    assert [(f["name"], f["required"]) for f in shown["fields"]] == [
        ("title", False),
        ("mood", False),
    ]
    assert cli(site, "field", "show", "mood")["validation"] == {"options": ["calm", "busy"]}
    cli(site, "field", "update", "mood", "--options", "calm,busy,away", "--label", "Mood")
    cli(site, "datatype", "detach", "status_note", "mood")
    cli(site, "field", "delete", "mood")
    cli(site, "datatype", "delete", "status_note")
    assert "status_note" not in [d["name"] for d in cli(site, "datatype", "list")]
    assert cli(site, "route", "update", "/about", "--title", "Who we are")["title"] == "Who we are"


def test_missing_project(tmp_path: Path) -> None:
    result = run_process(["content", "tree", "/"], cwd=tmp_path)
    assert result.returncode == 1 and result.stdout == ""
    assert "modulacms init" in one_line_error(result.stderr)


def test_bad_field_value(site: Path) -> None:
    post = cli(site, "content", "tree", "/blog/release-0-1")["root"]
    line = fails(site, "content", "set", post["id"], "--field", "reading_minutes=soon")
    assert "reading_minutes: expected a number" in line
    line = fails(
        site,
        "content",
        "create",
        "--route",
        "/about",
        "--datatype",
        "image_block",
        "--field",
        "image_url=not a url",
    )
    assert "image_url: expected an http:// or https:// address" in line and "alt: required" in line
    assert "not a field" in fails(site, "content", "set", post["id"], "--field", "nope=1")


def test_stale_revision(site: Path) -> None:
    root = cli(site, "content", "tree", "/about")["root"]
    cli(
        site,
        "content",
        "set",
        root["id"],
        "--field",
        "title=First",
        "--revision",
        str(root["revision"]),
    )
    line = fails(
        site,
        "content",
        "set",
        root["id"],
        "--field",
        "title=Second",
        "--revision",
        str(root["revision"]),
    )
    assert "changed by someone else" in line and "reload it" in line


def test_unknown_route(site: Path) -> None:
    assert "route /nowhere not found" in fails(site, "content", "tree", "/nowhere")
    assert "route /nowhere not found" in fails(
        site,
        "content",
        "create",
        "--route",
        "/nowhere",
        "--datatype",
        "page",
        "--field",
        "title=x",
    )
    assert "route /nowhere not found" in fails(site, "content", "publish", "/nowhere")
    assert "already exists" in fails(site, "route", "create", "/about")


def test_malformed_json_on_stdin(site: Path) -> None:
    root = cli(site, "content", "tree", "/about")["root"]
    line = fails(site, "content", "set", root["id"], "--stdin", input='{"title": "x",')
    assert "stdin is not valid JSON" in line
    line = fails(site, "content", "set", root["id"], "--stdin", input='["title"]')
    assert "JSON object of field values" in line


def test_misuse_exits_2(site: Path) -> None:
    root = cli(site, "content", "tree", "/about")["root"]
    assert "NAME=VALUE" in fails(site, "content", "set", root["id"], "--field", "title", code=2)
    assert "only one of" in fails(
        site, "content", "move", root["id"], "--parent", "a", "--after", "b", code=2
    )
    assert "nothing to change" in fails(site, "content", "set", root["id"], code=2)
    fails(site, "field", "create", "x", "--type", "colour", code=2)


def test_errors_through_a_real_process(site: Path) -> None:
    root = cli(site, "content", "tree", "/about")["root"]
    before = db_state(site)
    stale = run_process(
        [
            "--project",
            str(site),
            "content",
            "set",
            root["id"],
            "--field",
            "title=x",
            "--revision",
            "999",
        ],
    )
    assert stale.returncode == 1 and "changed by someone else" in one_line_error(stale.stderr)
    broken = run_process(
        ["--project", str(site), "content", "set", root["id"], "--stdin"], input="{oops"
    )
    assert broken.returncode == 1 and "not valid JSON" in one_line_error(broken.stderr)
    assert db_state(site) == before
