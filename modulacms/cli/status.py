"""``modulacms status``: where the project is, what its database holds, who uses it."""

from __future__ import annotations

from typing import Any

import click

from modulacms.cli.output import emit, json_option, print_fields
from modulacms.cli.state import CliState, pass_state
from modulacms.services.maintenance import Maintenance, StatusReport


def _size(num: int) -> str:
    value = float(num)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{num} B"


def status_json(report: StatusReport) -> dict[str, Any]:
    servers = [u for u in report.in_use if u.kind == "server"]
    return {
        "project": str(report.root),
        "database": str(report.database),
        "database_size": report.database_size,
        "schema_version": report.schema_version,
        "latest_schema_version": report.latest_schema_version,
        "counts": report.counts,
        "server_running": bool(servers),
        "in_use": [
            {"kind": u.kind, "pid": u.pid, "started_at": u.started_at, **u.details}
            for u in report.in_use
        ],
    }


@click.command()
@json_option
@pass_state
def status(state: CliState, as_json: bool) -> None:
    """Show the project, its database, what it holds and whether a server runs on it."""
    report = Maintenance(state.settings).status()
    emit(as_json, status_json(report), lambda: _human(report))


def _human(report: StatusReport) -> None:
    counts = report.counts
    schema = f"{report.schema_version} (this ModulaCMS writes {report.latest_schema_version})"
    users = [
        f"{u.kind}, pid {u.pid}" + (f", {u.details['url']}" if u.details.get("url") else "")
        for u in report.in_use
    ]
    pairs: list[tuple[str, Any]] = [
        ("project", report.root),
        ("database", f"{report.database} ({_size(report.database_size)})"),
        ("schema", schema),
    ]
    if report.schema_version:
        pairs += [
            ("routes", f"{counts['routes']} ({counts['routes_published']} published)"),
            (
                "nodes",
                f"{counts['nodes']} ({counts['published']} published, "
                f"{counts['drafts']} drafts, {counts['scheduled']} scheduled, "
                f"{counts['trashed']} in the trash)",
            ),
            ("datatypes", f"{counts['datatypes']} using {counts['fields']} fields"),
            ("users", counts["users"]),
            ("media files", counts["media"]),
        ]
    pairs += [
        ("plugins", counts["plugins"]),
        ("in use by", "; ".join(users) if users else "nothing (no server or TUI running)"),
    ]
    print_fields(pairs)
