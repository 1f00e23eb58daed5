"""``modulacms route list|show|create|update|delete``."""

from __future__ import annotations

import click

from modulacms.cli.output import done, emit, json_option, print_fields, print_table
from modulacms.cli.state import CliState, pass_state
from modulacms.cli.views import route_json


@click.group()
def route() -> None:
    """Routes: slugs like / or /blog/hello, each owning one content tree."""


@route.command("list")
@json_option
@pass_state
def list_(state: CliState, as_json: bool) -> None:
    """List the routes of the site."""
    routes = state.services.routes.list()
    rows = [(r.slug, r.title, r.is_published, r.date_modified, r.route_id) for r in routes]
    emit(
        as_json,
        [route_json(r) for r in routes],
        lambda: print_table(("slug", "title", "published", "modified", "id"), rows, title="routes"),
    )


@route.command()
@click.argument("slug")
@json_option
@pass_state
def show(state: CliState, slug: str, as_json: bool) -> None:
    """Show one route (SLUG or id)."""
    found = state.services.routes.get(slug)
    data = route_json(found)
    emit(as_json, data, lambda: print_fields(list(data.items())))


@route.command()
@click.argument("slug")
@click.option("--title", default="", help="A human title for the route.")
@json_option
@pass_state
def create(state: CliState, slug: str, title: str, as_json: bool) -> None:
    """Create the route SLUG (e.g. /about)."""
    created = state.services.routes.create(slug, state.actor, title=title)
    done(as_json, f"created route {created.slug} ({created.route_id})", route_json(created))


@route.command()
@click.argument("slug")
@click.option("--slug", "new_slug", metavar="NEW", help="A new slug for the route.")
@click.option("--title", default=None, help="A new title.")
@json_option
@pass_state
def update(
    state: CliState, slug: str, new_slug: str | None, title: str | None, as_json: bool
) -> None:
    """Change the slug and/or title of route SLUG."""
    if new_slug is None and title is None:
        raise click.UsageError("nothing to change: give --slug and/or --title")
    changed = state.services.routes.update(slug, state.actor, slug=new_slug, title=title)
    done(as_json, f"updated route {changed.slug}", route_json(changed))


@route.command()
@click.argument("slug")
@click.option("--force", is_flag=True, help="Delete the route's content with it.")
@json_option
@pass_state
def delete(state: CliState, slug: str, force: bool, as_json: bool) -> None:
    """Delete route SLUG (refused while it holds content, unless --force)."""
    target = state.services.routes.get(slug)
    state.services.routes.delete(target.route_id, state.actor, force=force)
    done(as_json, f"deleted route {target.slug}", {"deleted": route_json(target)})
