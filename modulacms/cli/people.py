"""``modulacms user ...``, ``modulacms token ...`` and ``modulacms role ...``."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import click

from modulacms.cli.output import done, emit, json_option, print_fields, print_table
from modulacms.cli.state import CliState, pass_state
from modulacms.core.people import Role, Token, User

LIST_LIMIT = 500


def user_json(user: User) -> dict[str, Any]:
    return {
        "id": user.user_id,
        "email": user.email,
        "name": user.name,
        "role": user.role_name,
        "active": user.is_active,
        "date_created": user.date_created,
        "date_modified": user.date_modified,
    }


def token_json(token: Token) -> dict[str, Any]:
    return {
        "id": token.token_id,
        "user_id": token.user_id,
        "name": token.name,
        "prefix": token.prefix,
        "expires_at": token.expires_at,
        "revoked_at": token.revoked_at,
        "last_used_at": token.last_used_at,
        "date_created": token.date_created,
    }


def role_json(role: Role) -> dict[str, Any]:
    return {
        "id": role.role_id,
        "name": role.name,
        "label": role.label,
        "system": role.system,
        "permissions": sorted(role.permissions),
    }


def _user(state: CliState, who: str) -> User:
    """A user by email (anything with an @) or id."""
    users = state.services.users
    return users.get_by_email(who, state.actor) if "@" in who else users.get(who, state.actor)


def _new_password(given: str | None) -> str:
    if given is not None:
        return given
    return str(click.prompt("New password", hide_input=True, confirmation_prompt=True, err=True))


# -- users ---------------------------------------------------------------------------------


@click.group()
def user() -> None:
    """People who sign in to the TUI and the API."""


@user.command("list")
@click.option("--search", help="Match email or name.")
@click.option("--role", help="Only users with this role.")
@json_option
@pass_state
def user_list(state: CliState, search: str | None, role: str | None, as_json: bool) -> None:
    """List users by email."""
    found, total = state.services.users.list(
        state.actor, search=search, role=role, limit=LIST_LIMIT
    )
    rows = [(u.email, u.name, u.role_name, u.is_active, u.user_id) for u in found]

    def human() -> None:
        print_table(("email", "name", "role", "active", "id"), rows, title="users")
        if total > len(found):
            click.echo(f"({total - len(found)} more; narrow the list with --search)", err=True)

    emit(as_json, [user_json(u) for u in found], human)


@user.command("show")
@click.argument("who", metavar="EMAIL|ID")
@json_option
@pass_state
def user_show(state: CliState, who: str, as_json: bool) -> None:
    """Show one user."""
    data = user_json(_user(state, who))
    emit(as_json, data, lambda: print_fields(list(data.items())))


@user.command("create")
@click.argument("email")
@click.option("--name", default="", help="Display name.")
@click.option("--role", default="viewer", show_default=True, help="admin, editor, viewer, ...")
@click.option("--password", help="The password (default: a generated one, printed once).")
@click.option("--disabled", is_flag=True, help="Create the account disabled.")
@json_option
@pass_state
def user_create(
    state: CliState,
    email: str,
    name: str,
    role: str,
    password: str | None,
    disabled: bool,
    as_json: bool,
) -> None:
    """Create a user."""
    chosen = password or secrets.token_urlsafe(15)
    created = state.services.users.create(
        email, chosen, state.actor, name=name, role=role, is_active=not disabled
    )
    data = user_json(created) | {"generated_password": None if password else chosen}
    message = f"created {created.role_name} {created.email}"
    if not password:
        message += f", password {chosen} (shown only now)"
    done(as_json, message, data)


@user.command("update")
@click.argument("who", metavar="EMAIL|ID")
@click.option("--email", "new_email", help="New email.")
@click.option("--name", help="New display name.")
@click.option("--role", help="New role.")
@click.option("--active/--disabled", default=None, help="Enable or disable the account.")
@json_option
@pass_state
def user_update(
    state: CliState,
    who: str,
    new_email: str | None,
    name: str | None,
    role: str | None,
    active: bool | None,
    as_json: bool,
) -> None:
    """Change a user's email, name, role or whether the account is active."""
    if (new_email, name, role, active) == (None, None, None, None):
        raise click.UsageError("nothing to change: give --email, --name, --role or --disabled")
    target = _user(state, who)
    changed = state.services.users.update(
        target.user_id, state.actor, email=new_email, name=name, role=role, is_active=active
    )
    done(as_json, f"updated {changed.email}", user_json(changed))


@user.command("passwd")
@click.argument("who", metavar="EMAIL|ID")
@click.option("--password", help="The new password (asked for when not given).")
@json_option
@pass_state
def user_passwd(state: CliState, who: str, password: str | None, as_json: bool) -> None:
    """Set a user's password (their sessions end)."""
    target = _user(state, who)
    state.services.users.set_password(target.user_id, _new_password(password), state.actor)
    done(as_json, f"password of {target.email} changed", {"id": target.user_id})


@user.command("delete")
@click.argument("who", metavar="EMAIL|ID")
@json_option
@pass_state
def user_delete(state: CliState, who: str, as_json: bool) -> None:
    """Delete a user with their sessions and tokens (never the last admin)."""
    target = _user(state, who)
    state.services.users.delete(target.user_id, state.actor)
    done(as_json, f"deleted {target.email}", {"deleted": user_json(target)})


# -- tokens --------------------------------------------------------------------------------


@click.group()
def token() -> None:
    """API tokens (Authorization: Bearer ...) for scripts and frontends."""


@token.command("create")
@click.argument("name")
@click.option("--user", "who", required=True, metavar="EMAIL|ID", help="Whose token it is.")
@click.option("--expires", metavar="TIME", help="Expiry, RFC 3339 (default: never).")
@click.option("--days", type=click.IntRange(1), help="Expire after this many days.")
@json_option
@pass_state
def token_create(
    state: CliState, name: str, who: str, expires: str | None, days: int | None, as_json: bool
) -> None:
    """Create a token; its secret is printed once and never stored."""
    if expires and days:
        raise click.UsageError("give --expires or --days, not both")
    expiry: str | datetime | None = expires
    if days:
        expiry = datetime.now(UTC) + timedelta(days=days)
    owner = _user(state, who)
    created = state.services.auth.create_token(
        name, state.actor, user_id=owner.user_id, expires_at=expiry
    )
    data = token_json(created.token) | {"secret": created.secret}
    message = f"token {created.token.token_id} for {owner.email}: {created.secret} (shown only now)"
    done(as_json, message, data)


@token.command("list")
@click.option("--user", "who", metavar="EMAIL|ID", help="Only this user's tokens.")
@click.option("--active", is_flag=True, help="Leave out revoked tokens.")
@json_option
@pass_state
def token_list(state: CliState, who: str | None, active: bool, as_json: bool) -> None:
    """List tokens, newest first (never their secrets)."""
    user_id = None if who is None else _user(state, who).user_id
    found = state.services.auth.tokens(state.actor, user_id=user_id, include_revoked=not active)
    rows = [
        (t.token_id, t.name, t.prefix, t.user_id, t.expires_at, t.revoked_at, t.last_used_at)
        for t in found
    ]
    emit(
        as_json,
        [token_json(t) for t in found],
        lambda: print_table(
            ("id", "name", "prefix", "user", "expires", "revoked", "last used"),
            rows,
            title="tokens",
        ),
    )


@token.command("revoke")
@click.argument("token_id")
@json_option
@pass_state
def token_revoke(state: CliState, token_id: str, as_json: bool) -> None:
    """Revoke a token at once."""
    revoked = state.services.auth.revoke_token(token_id, state.actor)
    done(as_json, f"revoked token {revoked.token_id} ({revoked.name})", token_json(revoked))


# -- roles ---------------------------------------------------------------------------------


@click.group()
def role() -> None:
    """Roles and the permissions they grant."""


@role.command("list")
@json_option
@pass_state
def role_list(state: CliState, as_json: bool) -> None:
    """List roles."""
    found = state.services.users.roles(state.actor)
    rows = [(r.name, r.label, r.system, len(r.permissions)) for r in found]
    emit(
        as_json,
        [role_json(r) for r in found],
        lambda: print_table(("name", "label", "built in", "permissions"), rows, title="roles"),
    )


@role.command("show")
@click.argument("name")
@json_option
@pass_state
def role_show(state: CliState, name: str, as_json: bool) -> None:
    """Show a role and its permissions."""
    found = state.services.users.role(name, state.actor)

    def human() -> None:
        print_fields([("name", found.name), ("label", found.label), ("built in", found.system)])
        click.echo("permissions:")
        for label in sorted(found.permissions):
            click.echo(f"  {label}")

    emit(as_json, role_json(found), human)
