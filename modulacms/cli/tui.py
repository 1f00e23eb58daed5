"""``modulacms tui`` (and ``modulacms`` alone): the terminal admin."""

from __future__ import annotations

import sys

import click

from modulacms.cli.state import CliState, cli_actor, pass_state


@click.command()
@pass_state
def tui(state: CliState) -> None:
    """Open the terminal admin for the project."""
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise click.UsageError("the terminal admin needs a terminal (stdin and stdout)")
    # textual is heavy: import it only when the TUI really opens
    from modulacms.logs import configure_logging
    from modulacms.project import project_use
    from modulacms.tui import run_tui

    project = state.project()
    settings = project.settings
    services = state.services
    configure_logging(
        "tui", level=settings.logging_level, debug=state.debug, log_file=settings.log_file
    )
    with project_use(settings, "tui"):
        run_tui(services, cli_actor("tui"), project_name=project.root.name)
