"""Users, tokens and roles through the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cli_support import ADMIN, db_state, one_line_error, run


@pytest.fixture
def site(tmp_path: Path) -> Path:
    target = tmp_path / "site"
    assert run(["init", str(target), *ADMIN]).exit_code == 0
    return target


def cli(site: Path, *args: str, input: str | None = None) -> Any:
    result = run(["--project", str(site), *args, "--json"], input=input)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_user_lifecycle(site: Path) -> None:
    created = cli(site, "user", "create", "ed@example.com", "--name", "Ed", "--role", "editor")
    assert created["role"] == "editor" and len(created["generated_password"]) >= 16
    chosen = cli(site, "user", "create", "vi@example.com", "--password", "long-enough-1")
    assert chosen["generated_password"] is None and chosen["role"] == "viewer"
    emails = [u["email"] for u in cli(site, "user", "list")]
    assert emails == ["admin@example.com", "ed@example.com", "vi@example.com"]
    assert [u["email"] for u in cli(site, "user", "list", "--role", "editor")] == ["ed@example.com"]
    changed = cli(site, "user", "update", "ed@example.com", "--role", "viewer", "--disabled")
    assert changed["role"] == "viewer" and changed["active"] is False
    assert cli(site, "user", "show", changed["id"])["email"] == "ed@example.com"
    cli(site, "user", "passwd", "vi@example.com", input="new-password-2\nnew-password-2\n")
    cli(site, "user", "passwd", "vi@example.com", "--password", "another-pass-3")
    cli(site, "user", "delete", "vi@example.com")
    assert "vi@example.com" not in [u["email"] for u in cli(site, "user", "list")]


def test_user_errors_change_nothing(site: Path) -> None:
    before = db_state(site)
    last = run(["--project", str(site), "user", "delete", "admin@example.com"])
    assert last.exit_code == 1 and "admin" in one_line_error(last.stderr)
    short = run(["--project", str(site), "user", "create", "x@example.com", "--password", "short"])
    assert short.exit_code == 1 and "at least 8 characters" in one_line_error(short.stderr)
    twice = run(["--project", str(site), "user", "create", "admin@example.com"])
    assert "already exists" in one_line_error(twice.stderr)
    unknown = run(["--project", str(site), "user", "show", "nobody@example.com"])
    assert "not found" in one_line_error(unknown.stderr)
    assert db_state(site) == before


def test_tokens(site: Path) -> None:
    made = cli(site, "token", "create", "deploy", "--user", "admin@example.com", "--days", "30")
    assert made["secret"].startswith(made["prefix"]) and made["expires_at"] is not None
    listed = cli(site, "token", "list", "--user", "admin@example.com")
    assert [t["id"] for t in listed] == [made["id"]] and "secret" not in listed[0]
    assert cli(site, "token", "revoke", made["id"])["revoked_at"] is not None
    assert cli(site, "token", "list", "--active") == []
    both = run(
        [
            "--project",
            str(site),
            "token",
            "create",
            "x",
            "--user",
            "admin@example.com",
            "--days",
            "1",
            "--expires",
            "2030-01-01T00:00:00Z",
        ]
    )
    assert both.exit_code == 2
    past = run(
        [
            "--project",
            str(site),
            "token",
            "create",
            "x",
            "--user",
            "admin@example.com",
            "--expires",
            "2001-01-01T00:00:00Z",
        ]
    )
    assert past.exit_code == 1 and "future" in one_line_error(past.stderr)


def test_roles(site: Path) -> None:
    names = [r["name"] for r in cli(site, "role", "list")]
    assert {"admin", "editor", "viewer"} <= set(names)
    editor = cli(site, "role", "show", "editor")
    assert "content:publish" in editor["permissions"] and editor["system"] is True
    assert "role nope not found" in one_line_error(
        run(["--project", str(site), "role", "show", "nope"]).stderr
    )
