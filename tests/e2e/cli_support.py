"""Helpers shared by the CLI end-to-end tests: run the CLI in-process and as a real
subprocess, build a demo project once, and read a database's whole state."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import apsw
from click.testing import CliRunner, Result

from modulacms.cli import cli

ADMIN = ["--admin-email", "admin@example.com", "--admin-password", "S3cret-pass"]
# nothing from the developer's shell may change what the CLI sees
CLEAN_ENV = {k: None for k in os.environ if k.startswith("MODULACMS_")}


def run(args: list[str], *, input: str | None = None, env: dict[str, str] | None = None) -> Result:
    """The CLI in-process through click's CliRunner."""
    runner = CliRunner()
    return runner.invoke(cli, args, input=input, env={**CLEAN_ENV, **(env or {})})


def run_process(
    args: list[str], *, cwd: Path | None = None, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    """The CLI as a real process (``python -m modulacms``), stdin closed unless given."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODULACMS_")}
    return subprocess.run(
        [sys.executable, "-m", "modulacms", *args],
        cwd=cwd,
        input=input,
        stdin=None if input is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def make_demo(target: Path) -> Path:
    """A fresh demo project at ``target``."""
    result = run(["init", str(target), "--demo", *ADMIN])
    assert result.exit_code == 0, result.output
    return target


def copy_project(template: Path, target: Path) -> Path:
    shutil.copytree(template, target)
    return target


def db_state(project: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of a project's database, sorted: equal means unchanged."""
    conn = apsw.Connection(str(project / "modulacms.db"), flags=apsw.SQLITE_OPEN_READONLY)
    try:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        return {
            t: sorted(map(tuple, conn.execute(f'SELECT * FROM "{t}"')), key=repr) for t in tables
        }
    finally:
        conn.close()


def one_line_error(text: str) -> str:
    """The single stderr line of a failed command (fails the test if there are more)."""
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1, text
    assert lines[0].startswith("Error: "), text
    assert "Traceback" not in text
    return lines[0]
