"""``modulacms content ...``: content trees, editing, the trash, publishing and versions."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from modulacms.cli.output import done, emit, json_option, print_fields, print_table
from modulacms.cli.state import CliState, pass_state
from modulacms.cli.views import (
    item_json,
    node_json,
    route_json,
    title_of,
    trash_json,
    tree_json,
    version_json,
)
from modulacms.core.models import RouteTree, TreeNode
from modulacms.errors import BadRequest


@click.group()
def content() -> None:
    """Content trees: show, edit, arrange, delete, publish and roll back."""


# -- reading -------------------------------------------------------------------------------


def _line(item: TreeNode) -> str:
    title = title_of(item.fields, item.values)
    shown = f' "{title[:60]}{"..." if len(title) > 60 else ""}"' if title else ""
    return f"{item.datatype.name}{shown}  {item.node.status.value}  {item.id}"


def tree_lines(tree: RouteTree) -> list[str]:
    """An indented drawing of a route tree, one node per line (no recursion limit)."""
    if tree.root is None:
        return []
    lines = [_line(tree.root)]
    stack: list[tuple[TreeNode, str]] = [(child, "") for child in reversed(tree.root.children)]
    last_ids = {tree.root.children[-1].id} if tree.root.children else set()
    while stack:
        item, prefix = stack.pop()
        last = item.id in last_ids
        lines.append(f"{prefix}{'└── ' if last else '├── '}{_line(item)}")
        if item.children:
            last_ids.add(item.children[-1].id)
            child_prefix = prefix + ("    " if last else "│   ")
            stack.extend((child, child_prefix) for child in reversed(item.children))
    return lines


@content.command()
@click.argument("route")
@json_option
@pass_state
def tree(state: CliState, route: str, as_json: bool) -> None:
    """Show the draft tree of ROUTE: datatype, title, status and id of every node."""
    found = state.services.content.tree(route)

    def human() -> None:
        status = "published" if found.route.is_published else "not published"
        click.echo(f"{found.route.slug}  {found.route.title}  ({found.node_count} nodes, {status})")
        lines = tree_lines(found)
        click.echo("\n".join(lines) if lines else "(empty)")

    emit(as_json, tree_json(found), human)


@content.command()
@click.argument("content_id")
@json_option
@pass_state
def show(state: CliState, content_id: str, as_json: bool) -> None:
    """Show one node with its field values."""
    item = state.services.content.item(content_id)
    data = item_json(item)

    def human() -> None:
        pairs = [(k, v) for k, v in data.items() if k != "fields"]
        print_fields(pairs)
        click.echo("fields:")
        print_fields([(f"  {k}", v) for k, v in item.values.items()])

    emit(as_json, data, human)


# -- field values --------------------------------------------------------------------------

_FIELD = click.option(
    "--field",
    "fields",
    metavar="NAME=VALUE",
    multiple=True,
    help="A field value (repeatable).",
)
_STDIN = click.option(
    "--stdin",
    "from_stdin",
    is_flag=True,
    help='Read field values from stdin as a JSON object, e.g. {"title": "Hi"}.',
)


def _values(fields: tuple[str, ...], from_stdin: bool) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if from_stdin:
        text = sys.stdin.read()
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            raise BadRequest(
                f"stdin is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
            ) from None
        if not isinstance(document, dict):
            raise BadRequest('stdin must hold a JSON object of field values, like {"title": "Hi"}')
        values.update(document)
    for pair in fields:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"expected NAME=VALUE, got {pair!r}", param_hint="--field")
        values[name.strip()] = value
    return values


def _one_position(parent: str | None, before: str | None, after: str | None) -> bool:
    """True when a position was given; a usage error when more than one was."""
    given = [p for p in (parent, before, after) if p]
    if len(given) > 1:
        raise click.UsageError("give only one of --parent, --before, --after")
    return bool(given)


_PARENT = click.option("--parent", metavar="ID", help="Add as the last child of this node.")
_BEFORE = click.option("--before", metavar="ID", help="Put just before this sibling.")
_AFTER = click.option("--after", metavar="ID", help="Put just after this sibling.")


@content.command()
@click.option("--route", required=True, help="The route (slug or id) the node belongs to.")
@click.option("--datatype", required=True, help="The node's datatype.")
@_PARENT
@_BEFORE
@_AFTER
@_FIELD
@_STDIN
@json_option
@pass_state
def create(
    state: CliState,
    route: str,
    datatype: str,
    parent: str | None,
    before: str | None,
    after: str | None,
    fields: tuple[str, ...],
    from_stdin: bool,
    as_json: bool,
) -> None:
    """Create a node with its field values.

    Without a position, the node becomes the route's root, or the last child of the root
    when the route has one.
    """
    values = _values(fields, from_stdin)
    _one_position(parent, before, after)
    created = state.services.content.create(
        route, datatype, values, state.actor, parent_id=parent, before=before, after=after
    )
    item = state.services.content.item(created.content_data_id)
    done(as_json, f"created {datatype} {created.content_data_id}", item_json(item))


@content.command("set")
@click.argument("content_id")
@_FIELD
@_STDIN
@click.option(
    "--revision",
    type=int,
    help="The revision you edited; the change is refused if the node changed since.",
)
@json_option
@pass_state
def set_(
    state: CliState,
    content_id: str,
    fields: tuple[str, ...],
    from_stdin: bool,
    revision: int | None,
    as_json: bool,
) -> None:
    """Change field values of a node (an empty VALUE clears the field)."""
    values = _values(fields, from_stdin)
    if not values:
        raise click.UsageError("nothing to change: give --field NAME=VALUE or --stdin")
    service = state.services.content
    current = revision if revision is not None else service.node(content_id).revision
    node = service.update(content_id, values, current, state.actor)
    item = service.item(node.content_data_id)
    done(as_json, f"updated {content_id} (revision {node.revision})", item_json(item))


# -- arranging -----------------------------------------------------------------------------


@content.command()
@click.argument("content_id")
@_PARENT
@_BEFORE
@_AFTER
@json_option
@pass_state
def move(
    state: CliState,
    content_id: str,
    parent: str | None,
    before: str | None,
    after: str | None,
    as_json: bool,
) -> None:
    """Move a node and its subtree (give one of --parent, --before, --after)."""
    if not _one_position(parent, before, after):
        raise click.UsageError("give one of --parent, --before, --after")
    node = state.services.content.move(
        content_id, state.actor, parent_id=parent, before=before, after=after
    )
    done(as_json, f"moved {content_id}", node_json(node))


@content.command()
@click.argument("parent_id")
@click.argument("children", nargs=-1, required=True)
@json_option
@pass_state
def reorder(state: CliState, parent_id: str, children: tuple[str, ...], as_json: bool) -> None:
    """Put every child of PARENT_ID in the order given."""
    state.services.content.reorder(parent_id, list(children), state.actor)
    done(
        as_json,
        f"reordered the children of {parent_id}",
        {"parent_id": parent_id, "order": list(children)},
    )


# -- deleting ------------------------------------------------------------------------------


@content.command()
@click.argument("content_id")
@json_option
@pass_state
def delete(state: CliState, content_id: str, as_json: bool) -> None:
    """Move a node and its subtree to the trash (see `content restore`)."""
    count = state.services.content.delete(content_id, state.actor)
    done(as_json, f"moved {count} node(s) to the trash", {"id": content_id, "trashed": count})


@content.command()
@json_option
@pass_state
def trash(state: CliState, as_json: bool) -> None:
    """List deleted subtrees waiting in the trash."""
    entries = state.services.content.trash()
    rows = [(e.content_data_id, e.node_count, e.trashed_at, e.route_id) for e in entries]
    emit(
        as_json,
        [trash_json(e) for e in entries],
        lambda: print_table(("id", "nodes", "trashed", "route"), rows, title="trash"),
    )


@content.command()
@click.argument("content_id")
@json_option
@pass_state
def restore(state: CliState, content_id: str, as_json: bool) -> None:
    """Bring a deleted subtree back from the trash."""
    node = state.services.content.restore(content_id, state.actor)
    done(as_json, f"restored {content_id}", node_json(node))


@content.command()
@click.argument("content_id")
@json_option
@pass_state
def purge(state: CliState, content_id: str, as_json: bool) -> None:
    """Delete a subtree in the trash for good."""
    count = state.services.content.purge(content_id, state.actor)
    done(as_json, f"purged {count} node(s)", {"id": content_id, "purged": count})


# -- publishing ----------------------------------------------------------------------------


@content.command()
@click.argument("route")
@click.option("--note", default="", help="A note stored with the version.")
@json_option
@pass_state
def publish(state: CliState, route: str, note: str, as_json: bool) -> None:
    """Publish the draft tree of ROUTE as a new version."""
    version = state.services.publishing.publish(route, state.actor, note=note)
    message = f"published {route} as version {version.version} ({version.node_count} nodes)"
    done(as_json, message, version_json(version))


@content.command()
@click.argument("route")
@json_option
@pass_state
def unpublish(state: CliState, route: str, as_json: bool) -> None:
    """Stop serving ROUTE (its versions are kept)."""
    changed = state.services.publishing.unpublish(route, state.actor)
    done(as_json, f"unpublished {changed.slug}", route_json(changed))


@content.command()
@click.argument("route")
@click.option(
    "--at", "at", required=True, metavar="TIME", help="RFC 3339, e.g. 2030-01-31T09:00:00Z."
)
@json_option
@pass_state
def schedule(state: CliState, route: str, at: str, as_json: bool) -> None:
    """Publish ROUTE at a future time (a running server carries it out)."""
    node = state.services.publishing.schedule(route, at, state.actor)
    done(as_json, f"{route} will be published at {node.publish_at}", node_json(node))


@content.command()
@click.argument("route")
@json_option
@pass_state
def versions(state: CliState, route: str, as_json: bool) -> None:
    """List the versions of ROUTE, newest first."""
    found = state.services.publishing.versions(route)
    rows = [(v.version, v.kind, v.node_count, v.date_created, v.note) for v in found]
    emit(
        as_json,
        [version_json(v) for v in found],
        lambda: print_table(
            ("version", "kind", "nodes", "created", "note"), rows, title="versions"
        ),
    )


@content.command()
@click.argument("route")
@click.argument("version", type=int)
@click.option(
    "--draft-only", is_flag=True, help="Copy the version into the draft without publishing it."
)
@json_option
@pass_state
def rollback(state: CliState, route: str, version: int, draft_only: bool, as_json: bool) -> None:
    """Bring back VERSION of ROUTE and publish it (the current draft is kept as an autosave)."""
    publishing = state.services.publishing
    if draft_only:
        restored = publishing.restore(route, version, state.actor)
        data: dict[str, Any] = tree_json(restored)
        message = f"copied version {version} of {route} into the draft"
    else:
        published = publishing.rollback(route, version, state.actor)
        data = version_json(published)
        message = f"rolled {route} back to version {version} (now version {published.version})"
    done(as_json, message, data)
