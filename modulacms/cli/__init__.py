"""The click command line: ``modulacms <noun> <verb>``.

A thin front end over the services: parse, call one service, print. Never imports
``modulacms.db``. Command modules are imported only when their command runs (the help
of the root group comes from the table below), and heavy modules (textual, lupa, the
HTTP stack, rich) are imported inside the commands that need them, so that
``modulacms --help`` answers fast.

Errors are translated in exactly one place, :meth:`ModulaGroup.main`: a ``ModulaError``
becomes one line on stderr and exit code 1, a usage mistake one line and exit code 2.
``--debug`` adds the traceback.
"""

from __future__ import annotations

import contextvars
import importlib
import importlib.util
import sys
import traceback
from collections.abc import Sequence
from typing import Any, NoReturn

import click

from modulacms import __version__
from modulacms.errors import ModulaError

# name -> (module, attribute, one-line help shown by `modulacms --help`)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "init": ("modulacms.cli.init", "init", "Create a project (optionally with a demo site)."),
    "status": ("modulacms.cli.status", "status", "Show the project, its database and counts."),
    "serve": ("modulacms.cli.serve", "serve", "Serve the HTTP API."),
    "tui": ("modulacms.cli.tui", "tui", "Open the terminal admin (the default command)."),
    "route": ("modulacms.cli.route", "route", "Routes: list, show, create, update, delete."),
    "datatype": ("modulacms.cli.schema", "datatype", "Datatypes and the fields they use."),
    "field": ("modulacms.cli.schema", "field", "Reusable field definitions."),
    "content": ("modulacms.cli.content", "content", "Content trees: edit, publish, versions."),
    "user": ("modulacms.cli.people", "user", "Users: list, create, update, passwd, delete."),
    "token": ("modulacms.cli.people", "token", "API tokens: create, list, revoke."),
    "role": ("modulacms.cli.people", "role", "Roles and their permissions."),
    "plugin": ("modulacms.cli.plugin", "plugin", "Lua plugins: list, approve, reload, ..."),
    "db": ("modulacms.cli.db", "db", "The database: migrate, check, heal."),
    "backup": ("modulacms.cli.backup", "backup", "Online backups: create, list, restore."),
    "export": ("modulacms.cli.transfer", "export", "Export the site or a route as JSON."),
    "import": ("modulacms.cli.transfer", "import_", "Import an export into this project."),
}

_DEBUG: contextvars.ContextVar[bool] = contextvars.ContextVar("modulacms_debug", default=False)


class ModulaGroup(click.Group):
    """The root group: loads command modules on demand and owns the error boundary."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name in COMMANDS if self._available(name)]

    @staticmethod
    def _available(name: str) -> bool:
        module = COMMANDS[name][0]
        return importlib.util.find_spec(module) is not None

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None or not self._available(cmd_name):
            return None
        command = getattr(importlib.import_module(entry[0]), entry[1])
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][2]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        _DEBUG.set(False)
        try:
            result = super().main(args, prog_name or "modulacms", complete_var, False, **extra)
        except ModulaError as exc:
            _fail(exc.message, 1, exc)
        except click.UsageError as exc:
            hint = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx else ""
            _fail(f"{exc.format_message()}{hint}", exc.exit_code, exc)
        except click.ClickException as exc:
            _fail(exc.format_message(), exc.exit_code, exc)
        except click.Abort:
            _fail("aborted", 1, None)
        except BrokenPipeError:
            # the reader (e.g. `| head`) went away; nothing more to say to it
            sys.stderr.close()
            sys.exit(1)
        except Exception as exc:
            _fail(
                f"internal error: {type(exc).__name__}: {exc} "
                "(rerun with --debug for the traceback)",
                1,
                exc,
            )
        sys.exit(result if isinstance(result, int) else 0)


def _fail(message: str, code: int, exc: BaseException | None) -> NoReturn:
    if exc is not None and _DEBUG.get():
        traceback.print_exception(exc, file=sys.stderr)
    # one line, whatever the message contained
    click.echo(f"Error: {' '.join(message.split())}", err=True)
    sys.exit(code)


@click.group(name="modulacms", cls=ModulaGroup, invoke_without_command=True)
@click.option(
    "--project",
    "project",
    metavar="DIR",
    help="Project directory (default: $MODULACMS_PROJECT, or the nearest parent "
    "directory holding modulacms.toml).",
)
@click.option("--debug", is_flag=True, help="Log everything and show tracebacks of errors.")
@click.version_option(__version__, prog_name="modulacms")
@click.pass_context
def cli(ctx: click.Context, project: str | None, debug: bool) -> None:
    """ModulaCMS: a terminal-first headless CMS.

    Without a command, opens the terminal admin for the project.
    """
    from modulacms.cli.state import CliState
    from modulacms.logs import configure_logging

    _DEBUG.set(debug)
    configure_logging("cli", debug=debug)
    ctx.obj = CliState(project, debug)
    if ctx.invoked_subcommand is None:
        group = ctx.command
        tui = group.get_command(ctx, "tui") if isinstance(group, ModulaGroup) else None
        # a pipe or a script gets the help; only a person at a terminal gets the TUI
        if tui is None or not (sys.stdin.isatty() and sys.stdout.isatty()):
            click.echo(ctx.get_help())
            return
        ctx.invoke(tui)


def main() -> None:
    """Console-script entry point."""
    cli()
