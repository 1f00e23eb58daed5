"""Printing: rich tables for people, JSON for scripts, progress bars for long work.

rich is imported only when something is printed as a table or a bar, so commands that
print JSON or nothing never pay for it. Colour follows rich's terminal detection (and
``NO_COLOR``): none when stdout is not a TTY.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from rich.console import Console

JSON_HELP = "Print JSON (stable keys, see docs/cli.md) instead of a table."

json_option = click.option("--json", "as_json", is_flag=True, help=JSON_HELP)


def console(stderr: bool = False) -> Console:
    """A rich console on the current stdout (or stderr); wide when not a terminal."""
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() else int(os.environ.get("COLUMNS", "200"))
    return Console(file=stream, width=width, highlight=False, soft_wrap=False)


def print_json(data: Any) -> None:
    """``data`` as indented JSON on stdout."""
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def print_table(
    columns: Sequence[str], rows: Sequence[Sequence[Any]], *, title: str | None = None
) -> None:
    """A table for people; an empty one says so instead."""
    if not rows:
        click.echo(f"no {title or 'rows'}")
        return
    from rich.markup import escape
    from rich.table import Table

    table = Table(*columns, title=title, title_justify="left", show_edge=False)
    for row in rows:
        table.add_row(*(escape(_cell(v)) for v in row))
    console().print(table)


def print_fields(pairs: Sequence[tuple[str, Any]]) -> None:
    """``name  value`` lines (the detail view of one record)."""
    width = max((len(name) for name, _ in pairs), default=0)
    for name, value in pairs:
        click.echo(f"{name.ljust(width)}  {_cell(value)}")


def emit(as_json: bool, data: Any, human: Callable[[], None]) -> None:
    """Print ``data`` as JSON when asked, else call ``human`` to print for people."""
    if as_json:
        print_json(data)
    else:
        human()


def done(as_json: bool, message: str, data: Any) -> None:
    """Report a completed change: ``data`` as JSON, or one line for people."""
    emit(as_json, data, lambda: click.echo(message))


Advance = Callable[[int, int], None]


@contextmanager
def progress(description: str, *, enabled: bool = True) -> Iterator[Advance]:
    """A progress bar on stderr while the block runs; yields ``advance(done, total)``.

    Silent when not ``enabled`` or when stderr is not a terminal, so logs and pipes stay
    clean.
    """
    if not (enabled and sys.stderr.isatty()):
        yield lambda done, total: None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console(stderr=True), transient=True) as bar:
        task = bar.add_task(description, total=None)

        def advance(completed: int, total: int) -> None:
            bar.update(task, completed=completed, total=total)

        yield advance
