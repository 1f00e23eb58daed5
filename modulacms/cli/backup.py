"""``modulacms backup create|list|restore``: online copies of the database."""

from __future__ import annotations

from typing import Any

import click

from modulacms.cli.output import done, emit, json_option, print_table, progress
from modulacms.cli.state import CliState, pass_state
from modulacms.services.maintenance import BackupInfo, Maintenance


def backup_json(info: BackupInfo) -> dict[str, Any]:
    return {
        "name": info.name,
        "path": str(info.path),
        "size": info.size,
        "created_at": info.created_at,
    }


@click.group()
def backup() -> None:
    """Online backups: consistent copies even while a server writes."""


@backup.command()
@click.option("--label", default="", help="A word to add to the file name.")
@json_option
@pass_state
def create(state: CliState, label: str, as_json: bool) -> None:
    """Copy the database into the project's backup directory."""
    with progress("backing up") as advance:
        info = Maintenance(state.settings).create_backup(label, advance)
    done(as_json, f"backup {info.name} written ({info.size} bytes)", backup_json(info))


@backup.command("list")
@json_option
@pass_state
def list_(state: CliState, as_json: bool) -> None:
    """List the backups, oldest first."""
    backups = Maintenance(state.settings).backups()
    rows = [(b.name, b.created_at, b.size) for b in backups]
    emit(
        as_json,
        [backup_json(b) for b in backups],
        lambda: print_table(("name", "created", "bytes"), rows, title="backups"),
    )


@backup.command()
@click.argument("name")
@click.option(
    "--force", is_flag=True, help="Restore even while a server or the TUI uses the project."
)
@json_option
@pass_state
def restore(state: CliState, name: str, force: bool, as_json: bool) -> None:
    """Replace the database with the backup NAME (a file name from `backup list`, or a path).

    The current database is first saved as a backup of its own.
    """
    with progress("restoring") as advance:
        report = Maintenance(state.settings).restore(name, force=force, progress=advance)
    data = {
        "restored": backup_json(report.restored),
        "safety_backup": backup_json(report.safety_backup),
        "schema_version": report.schema_version,
    }
    message = (
        f"restored {report.restored.name}; the previous database was saved as "
        f"{report.safety_backup.name}"
    )
    done(as_json, message, data)
