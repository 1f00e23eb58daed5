"""The click command line: ``modulacms <noun> <verb>``.

A thin front end over the services: parse, call one service, print. Never imports
``modulacms.db``; heavy modules (textual, lupa, the HTTP stack) are imported inside the
commands that need them so that ``modulacms --help`` stays fast.
"""

from __future__ import annotations

import click

from modulacms import __version__


@click.group(invoke_without_command=True)
@click.version_option(__version__, prog_name="modulacms")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """ModulaCMS: a terminal-first headless CMS."""
    if ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())


def main() -> None:
    """Console-script entry point."""
    cli()
