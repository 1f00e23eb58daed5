"""``modulacms db migrate|check|heal``."""

from __future__ import annotations

from typing import Any

import click

from modulacms.cli.output import emit, json_option, print_fields
from modulacms.cli.state import CliState, pass_state
from modulacms.core.models import HealReport
from modulacms.errors import StoreError
from modulacms.services.maintenance import Maintenance


@click.group()
def db() -> None:
    """The database: migrate, check, heal."""


@db.command()
@json_option
@pass_state
def migrate(state: CliState, as_json: bool) -> None:
    """Create the database if needed and apply pending schema migrations."""
    report = Maintenance(state.settings).migrate()
    data = {
        "database": str(report.database),
        "from_version": report.from_version,
        "to_version": report.to_version,
        "applied": list(report.applied),
    }
    if report.applied:
        message = (
            f"migrated {report.database} from schema {report.from_version} to "
            f"{report.to_version} ({', '.join(report.applied)})"
        )
    else:
        message = f"{report.database} is up to date (schema {report.to_version})"
    emit(as_json, data, lambda: click.echo(message))


def heal_json(report: HealReport) -> dict[str, Any]:
    return {
        "nodes_checked": report.nodes_checked,
        "problems": list(report.problems),
        "repaired": report.repaired,
    }


@db.command()
@click.option("--route", metavar="SLUG", help="Check the tree of one route only.")
@json_option
@pass_state
def check(state: CliState, route: str | None, as_json: bool) -> None:
    """Run SQLite's integrity checks and verify every content tree's pointer chains.

    Changes nothing. Exits with status 1 when a problem is found.
    """
    maintenance = Maintenance(state.settings)

    def tree_check() -> HealReport:
        return state.services.content.heal(state.actor, route, repair=False)

    report = maintenance.check(tree_check)
    tree = report.tree
    data = {
        "ok": report.ok,
        "integrity": list(report.integrity),
        "tree": heal_json(tree) if tree else None,
    }

    def human() -> None:
        pairs: list[tuple[str, Any]] = [
            ("integrity", "ok" if not report.integrity else f"{len(report.integrity)} problems"),
        ]
        if tree is not None:
            found = f"{len(tree.problems)} problems" if tree.problems else "ok"
            pairs.append(("content trees", f"{found} ({tree.nodes_checked} nodes checked)"))
        print_fields(pairs)
        for problem in (*report.integrity, *(tree.problems if tree else ())):
            click.echo(f"  {problem}")

    emit(as_json, data, human)
    if not report.ok:
        fix = "; `modulacms db heal` repairs the content trees" if tree and tree.problems else ""
        raise StoreError(f"the database check found problems{fix}")


@db.command()
@click.option("--route", metavar="SLUG", help="Repair the tree of one route only.")
@json_option
@pass_state
def heal(state: CliState, route: str | None, as_json: bool) -> None:
    """Repair broken pointer chains in content trees (reports what it changed)."""
    report = state.services.content.heal(state.actor, route, repair=True)

    def human() -> None:
        if not report.problems:
            click.echo(f"content trees are sound ({report.nodes_checked} nodes checked)")
            return
        click.echo(f"repaired {len(report.problems)} problems:")
        for problem in report.problems:
            click.echo(f"  {problem}")

    emit(as_json, heal_json(report), human)
