"""``modulacms export FILE`` and ``modulacms import FILE``: a site or route as JSON."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from modulacms.cli.output import done, json_option, progress
from modulacms.cli.state import CliState, pass_state
from modulacms.errors import BadRequest, NotFound


def _transfer(state: CliState) -> Any:
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
    with progress("exporting") as advance:
        document = _transfer(state).export(state.actor, route, advance)
    text = json.dumps(
        document,
        ensure_ascii=False,
        indent=2 if pretty else None,
        separators=None if pretty else (",", ":"),
    )
    nodes = sum(len(r["nodes"]) for r in document["routes"])
    summary = {"file": file, "routes": len(document["routes"]), "nodes": nodes}
    if file == "-":
        click.echo(text)
        return
    target = Path(file)
    partial = target.with_name(target.name + ".partial")
    partial.write_text(text + "\n", encoding="utf-8")
    os.replace(partial, target)
    message = f"exported {summary['routes']} routes and {nodes} nodes to {file}"
    done(as_json, message, summary)


def _read(file: str) -> Any:
    if file == "-":
        text = sys.stdin.read()
    else:
        try:
            text = Path(file).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise NotFound("file", file, f"no such file: {file}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise BadRequest(f"cannot read {file}: {exc}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadRequest(
            f"{file} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None


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
    document = _read(file)
    with progress("importing") as advance:
        report = _transfer(state).import_(document, state.actor, new_ids=new_ids, progress=advance)
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
