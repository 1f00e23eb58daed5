"""docs/cli.md stays true: its contract examples run, and it names every command and
every setting."""

from __future__ import annotations

import shlex
from pathlib import Path

import click
import pytest
from cli_support import run

from modulacms.cli import cli
from modulacms.config import SETTINGS

DOC = Path(__file__).resolve().parents[2] / "docs" / "cli.md"


def _block_after(heading: str) -> list[str]:
    text = DOC.read_text(encoding="utf-8")
    section = text.split(heading, 1)[1]
    block = section.split("```", 2)[1]
    return [line for line in block.splitlines() if line.strip()]


def test_contract_examples_run_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    lines = _block_after("## Contract examples")
    assert len(lines) == 15
    for line in lines:
        words = shlex.split(line)
        assert words[0] == "modulacms"
        result = run(words[1:])
        assert result.exit_code == 0, f"{line}\n{result.output}"
    assert (tmp_path / "site.json").is_file()
    assert any((tmp_path / "mysite" / "backups").iterdir())


def _commands(group: click.Group, ctx: click.Context, prefix: str) -> list[str]:
    found = []
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None
        path = f"{prefix} {name}".strip()
        if isinstance(command, click.Group):
            found += _commands(command, ctx, path)
        else:
            found.append(path)
    return found


def test_every_command_is_documented() -> None:
    block = "\n".join(_block_after("## Commands"))
    with click.Context(cli) as ctx:
        commands = _commands(cli, ctx, "")
    assert "content tree" in commands and "backup restore" in commands
    for path in commands:
        noun, _, verb = path.partition(" ")
        if noun == "plugin":
            continue  # documented with the plugin runtime
        assert f"modulacms {noun}" in block, path
        assert not verb or verb in block, path


def test_every_setting_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    for spec in SETTINGS:
        assert f"| `{spec.key}` |" in text and f"`{spec.env}`" in text, spec.name


def test_help_of_every_command_renders() -> None:
    with click.Context(cli) as ctx:
        commands = _commands(cli, ctx, "")
    for path in commands:
        result = run([*path.split(), "--help"])
        assert result.exit_code == 0, path
        assert "Usage: modulacms" in result.stdout
