"""``modulacms export FILE`` and ``modulacms import FILE``: a site or route as JSON."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from modulacms.cli.output import done, json_option, progress
from modulacms.cli.state import CliState, pass_state
from modulacms.errors import BadRequest, NotFound

if TYPE_CHECKING:
    from modulacms.services.transfer import Transfer


def _transfer(state: CliState) -> Transfer:
    from modulacms.services.transfer import Transfer

    app = state.app()
    return Transfer(app.db, app.services)


@click.command()
@click.argument("file", metavar="FILE")
@click.option("--route", metavar="SLUG", help="Export one route (and the schema it uses).")
@click.option("--pretty", is_flag=True, help="Indent the JSON for reading.")
@json_option
@pass_state
def export(state: CliState, file: str, route: str | None, pretty: bool, as_json: bool) -> None:
    """Write the site (or one route) to FILE as JSON: schema, drafts, published versions.

    FILE "-" writes to stdout.
    """
    transfer = _transfer(state)
    with progress("exporting") as advance:
        if file == "-":
            transfer.export(sys.stdout, state.actor, route, pretty=pretty, progress=advance)
            return
        target = Path(file)
        partial = target.with_name(target.name + ".partial")
        try:
            with partial.open("w", encoding="utf-8") as out:
                report = transfer.export(out, state.actor, route, pretty=pretty, progress=advance)
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)
    summary = {"file": file, "routes": report.routes, "nodes": report.nodes}
    message = f"exported {report.routes} routes and {report.nodes} nodes to {file}"
    done(as_json, message, summary)


@click.command("import")
@click.argument("file", metavar="FILE")
@click.option(
    "--new-ids",
    is_flag=True,
    help="Give every imported record a fresh id (ids are kept by default).",
)
@json_option
@pass_state
def import_(state: CliState, file: str, new_ids: bool, as_json: bool) -> None:
    """Import an export FILE (or "-" for stdin) into this project, in one transaction.

    Routes must not exist yet; fields and datatypes with the same names are reused.
    """
    transfer = _transfer(state)
    with progress("importing") as advance:
        if file == "-":
            report = transfer.import_(sys.stdin, state.actor, new_ids=new_ids, progress=advance)
        else:
            try:
                source = Path(file).open(encoding="utf-8")
            except FileNotFoundError:
                raise NotFound("file", file, f"no such file: {file}") from None
            except OSError as exc:
                raise BadRequest(f"cannot read {file}: {exc.strerror}") from None
            with source:
                try:
                    report = transfer.import_(
                        source, state.actor, new_ids=new_ids, progress=advance
                    )
                except UnicodeDecodeError:
                    raise BadRequest(f"{file} is not UTF-8 text") from None
    data = {
        "routes": report.routes,
        "nodes": report.nodes,
        "published": report.published,
        "datatypes_created": report.datatypes_created,
        "fields_created": report.fields_created,
    }
    message = (
        f"imported {report.routes} routes ({report.published} published) and {report.nodes} "
        f"nodes; created {report.datatypes_created} datatypes and {report.fields_created} fields"
    )
    done(as_json, message, data)
