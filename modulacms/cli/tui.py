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
    actor = cli_actor("tui")
    plugins = None
    if settings.plugins_enabled:
        from modulacms.plugin_control import lazy_control

        # built on first use (F6), so lupa is imported only when the Plugins area opens
        plugins = lazy_control(settings, state.app().db, actor.name, services=services)
    configure_logging(
        "tui", level=settings.logging_level, debug=state.debug, log_file=settings.log_file
    )
    with project_use(settings, "tui"):
        run_tui(services, actor, project_name=project.root.name, plugins=plugins)
