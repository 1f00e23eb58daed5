"""``modulacms init [DIR]``: create a project, optionally with the demo site."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from modulacms.cli.output import emit, json_option, print_fields, progress
from modulacms.cli.state import CliState, pass_state
from modulacms.project import InitResult, init_project


def init_json(result: InitResult) -> dict[str, Any]:
    demo = result.demo
    return {
        "project": str(result.root),
        "created": result.created,
        "admin_email": result.admin_email,
        "generated_password": result.generated_password,
        "demo": None
        if demo is None
        else {
            "datatypes": demo.datatypes,
            "fields": demo.fields,
            "routes": demo.routes,
            "nodes": demo.nodes,
        },
        "plugins": list(result.plugins),
    }


@click.command()
@click.argument("directory", required=False, type=click.Path(path_type=Path))
@click.option("--demo", is_flag=True, help="Also seed and publish the demo site.")
@click.option(
    "--demo-posts",
    type=click.IntRange(0, 100_000),
    default=5,
    show_default=True,
    help="Blog posts in the demo site (each is its own route).",
)
@click.option("--admin-email", metavar="EMAIL", help="Email of the first admin user.")
@click.option(
    "--admin-password",
    metavar="PASSWORD",
    help="Password of the first admin (default: a generated one, printed once).",
)
@json_option
@pass_state
def init(
    state: CliState,
    directory: Path | None,
    demo: bool,
    demo_posts: int,
    admin_email: str | None,
    admin_password: str | None,
    as_json: bool,
) -> None:
    """Create a project in DIRECTORY (default: --project, or the current directory).

    Writes modulacms.toml with every setting and its default, a migrated modulacms.db,
    plugins/, media/ and backups/, and an admin user. On an existing project it changes
    nothing and says so.
    """
    target = directory or Path(state.project_arg or ".")
    with progress("seeding the demo site", enabled=demo) as advance:
        result = init_project(
            target,
            admin_email=admin_email,
            admin_password=admin_password,
            demo=demo,
            demo_posts=demo_posts,
            progress=advance,
        )
    emit(as_json, init_json(result), lambda: _human(target, result))


def _human(target: Path, result: InitResult) -> None:
    if not result.created:
        click.echo(f"{target} is already a ModulaCMS project; nothing was changed")
        return
    click.echo(f"created a ModulaCMS project in {result.root}")
    admin = str(result.admin_email)
    if result.generated_password:
        admin += f", password {result.generated_password} (shown only now)"
    pairs: list[tuple[str, Any]] = [
        ("settings", result.root / "modulacms.toml"),
        ("admin", admin),
    ]
    if result.demo is not None:
        demo = result.demo
        pairs.append(("demo", f"{demo.routes} routes, {demo.nodes} nodes, all published"))
    if result.plugins:
        pairs.append(("plugins", ", ".join(result.plugins)))
    print_fields(pairs)
    click.echo(f"next: modulacms --project {target} serve")
