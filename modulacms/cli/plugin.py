"""``modulacms plugin list|init|validate|info|install|test|enable|disable|approve|revoke|
reload|cleanup``.

Every command works on the project database whether or not a server runs; a running
server picks changes up within its sync interval (see ``plugin_runtime/runtime.py``).
The plugin runtime (and lupa) is imported inside the commands, never at module import.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from modulacms.cli.output import emit, json_option, print_json, print_table
from modulacms.cli.state import CliState, pass_state
from modulacms.errors import ModulaError

if TYPE_CHECKING:
    from modulacms.plugin_runtime.admin import PluginAdmin


def _admin(state: CliState) -> PluginAdmin:
    from modulacms.plugin_runtime.admin import PluginAdmin
    from modulacms.plugin_runtime.options import RuntimeOptions

    app = state.app()
    settings = state.settings
    return PluginAdmin(
        settings.plugins_dir, app.db, app.services, RuntimeOptions.from_settings(settings)
    )


def _plugin_path(path: Path) -> Path:
    """``path`` when it exists; a bare name that does not is looked up in the current
    project's plugin directory (``plugin test shop`` inside a project)."""
    if path.exists() or len(path.parts) != 1:
        return path
    state = click.get_current_context().find_object(CliState)
    if state is None:
        return path
    try:
        candidate = state.settings.plugins_dir / path.name
    except ModulaError:  # not inside a project
        return path
    return candidate if candidate.is_dir() else path


def _confirm(message: str, yes: bool) -> bool:
    if yes or not sys.stdout.isatty():
        return True
    return click.confirm(message, default=False)


@click.group()
def plugin() -> None:
    """Lua plugins: list, scaffold, validate, test, approve and manage."""


@plugin.command("list")
@json_option
@pass_state
def list_(state: CliState, as_json: bool) -> None:
    """List the plugins in the plugin directory: status, approvals still pending, the
    breaker state a server recorded, the latest error (invalid ones marked)."""
    from modulacms.plugin_control import admin_control

    settings = state.settings
    directory = settings.plugins_dir
    if not directory.is_dir():
        click.echo("no plugins directory found.")
        return
    app = state.app()
    control = admin_control(directory, app.db, "cli", services=app.services, settings=settings)
    found = control.plugins()
    if as_json:
        print_json(
            [
                {
                    "name": p.name,
                    "version": p.version,
                    "description": p.description,
                    "valid": p.valid,
                    "status": p.state,
                    "pending": p.pending,
                    "breaker": p.breaker,
                    **({"error": p.last_error} if p.last_error else {}),
                }
                for p in found
            ]
        )
        return
    if not found:
        click.echo("no plugins found.")
        return
    rows = [
        (p.name, p.version, p.state, p.pending or "", p.breaker or "", p.description)
        if p.valid
        else (f"{p.name} [invalid]", "", p.state, "", "", p.last_error or "")
        for p in found
    ]
    print_table(
        ("name", "version", "status", "pending", "breaker", "description"), rows, title="plugins"
    )
    broken = [p for p in found if p.last_error and p.valid]
    for p in broken:
        click.echo(f"{p.name}: last error: {p.last_error}")


SCAFFOLD = """plugin_info = {{
  name = "{name}",
  version = "{version}",
  description = "{description}",
  author = "{author}",
  license = "{license}",
}}

-- Routes and hooks are registered at module scope (not inside on_init).
http.handle("GET", "/hello", function(req)
  local name = req.query.name or "world"
  return {{ status = 200, json = {{ message = "hello " .. name }} }}
end, {{ public = true }})

function on_init()
  log.info("{name} started", {{ version = plugin_info.version }})
end

function on_shutdown()
  log.info("{name} stopped")
end
"""

SCAFFOLD_TEST = """-- Run with: modulacms plugin test plugins/{name}

function test_hello_greets_by_name()
  local res = test.request("GET", "/api/v1/plugins/{name}/hello?name=Ada")
  test.assert_eq(200, res.status)
  test.assert_eq("hello Ada", res.json.message)
end

function test_hello_defaults_to_world()
  local res = test.request("GET", "/api/v1/plugins/{name}/hello", {{ auth = "none" }})
  test.assert_eq("hello world", res.json.message)
end
"""


def _lua_text(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


@plugin.command()
@click.argument("name")
@click.option("--version", "version", default=None, help="Version (default 0.1.0).")
@click.option("--description", default=None, help="One line saying what it does.")
@click.option("--author", default=None, help="Author name.")
@click.option("--license", "license_", default=None, help="License (e.g. MIT).")
@pass_state
def init(
    state: CliState,
    name: str,
    version: str | None,
    description: str | None,
    author: str | None,
    license_: str | None,
) -> None:
    """Scaffold a working plugin NAME (with a test) in the plugin directory."""
    from modulacms.errors import ValidationFailed
    from modulacms.plugin_runtime.manifest import check_name

    problem = check_name(name)
    if problem:
        raise ValidationFailed(f"invalid plugin name: {problem}")
    target = state.settings.plugins_dir / name
    if target.exists():
        raise click.ClickException(f"{target} already exists")
    interactive = sys.stdout.isatty() and None in (version, description, author, license_)
    if interactive:
        version = version or click.prompt("Version", default="0.1.0")
        description = description or click.prompt("Description")
        author = author if author is not None else click.prompt("Author", default="")
        license_ = license_ if license_ is not None else click.prompt("License", default="MIT")
    elif not description:
        raise click.UsageError("--description is required when not running interactively")
    values = {
        "name": name,
        "version": _lua_text(version or "0.1.0"),
        "description": _lua_text(description or ""),
        "author": _lua_text(author or ""),
        "license": _lua_text(license_ or ""),
    }
    (target / "lib").mkdir(parents=True)
    (target / "test").mkdir()
    (target / "init.lua").write_text(SCAFFOLD.format(**values), encoding="utf-8")
    (target / "test" / "hello.test.lua").write_text(
        SCAFFOLD_TEST.format(name=name), encoding="utf-8"
    )
    click.echo(f"created plugin scaffold at {target}")


@plugin.command()
@click.argument("path", type=click.Path(path_type=Path))
def validate(path: Path) -> None:
    """Check a plugin directory (or a plugin of the project, by name): init.lua,
    syntax, manifest."""
    from modulacms.plugin_runtime.admin import validate_plugin

    result = validate_plugin(_plugin_path(path))
    for field_name, message in result.errors:
        click.echo(f"  ERROR   [{field_name}] {message}", err=True)
    for field_name, message in result.warnings:
        click.echo(f"  WARN    [{field_name}] {message}", err=True)
    if not result.ok or result.manifest is None:
        click.echo("Validation failed.", err=True)
        raise SystemExit(1)
    click.echo(f'plugin "{result.manifest.name}" v{result.manifest.version} is valid.')
    if result.warnings:
        click.echo(f"  {len(result.warnings)} warning(s) found.")


@plugin.command()
@click.argument("name")
@json_option
@pass_state
def info(state: CliState, name: str, as_json: bool) -> None:
    """Show a plugin's manifest, status, routes, hooks and domains."""
    from modulacms.core.plugins import plugin_state

    data = _admin(state).info(name)

    def human() -> None:
        for label, key in (
            ("Name", "name"),
            ("Version", "version"),
            ("Description", "description"),
            ("Author", "author"),
            ("License", "license"),
        ):
            if data.get(key):
                click.echo(f"{label + ':':13} {data[key]}")
        stored = str(data["status"])
        word = plugin_state(stored)
        click.echo(f"{'Status:':13} {word}" + (f" ({stored})" if word != stored else ""))
        if data.get("breaker_state"):
            click.echo(f"{'Breaker:':13} {data['breaker_state']} since {data['breaker_since']}")
        if data.get("last_error"):
            click.echo(f"{'Last error:':13} {data['last_error']} ({data['last_error_at']})")
        if data["dependencies"]:
            click.echo(f"{'Dependencies:':13} {', '.join(data['dependencies'])}")
        for route in data["routes"]:
            mark = "approved" if route["approved"] else "pending"
            public = " (public)" if route["public"] else ""
            click.echo(f"  route  {route['method']} {route['path']}{public}  {mark}")
        for hook in data["hooks"]:
            mark = "approved" if hook["approved"] else "pending"
            click.echo(f"  hook   {hook['event']}:{hook['table']}  {mark}")
        for domain in data["domains"]:
            mark = "approved" if domain["approved"] else "pending"
            click.echo(f"  domain {domain['domain']}  {mark}")

    emit(as_json, data, human)


def _set_status(state: CliState, name: str, enabled: bool) -> None:
    _admin(state).set_enabled(name, enabled)
    click.echo(f'plugin "{name}" {"enabled" if enabled else "disabled"} successfully.')


@plugin.command()
@click.argument("name")
@pass_state
def enable(state: CliState, name: str) -> None:
    """Enable a plugin (a running server starts it)."""
    _set_status(state, name, True)


@plugin.command()
@click.argument("name")
@pass_state
def disable(state: CliState, name: str) -> None:
    """Disable a plugin (a running server stops it; it stays stopped on restart)."""
    _set_status(state, name, False)


@plugin.command()
@click.argument("name")
@pass_state
def reload(state: CliState, name: str) -> None:
    """Reload a plugin (validates it; a running server reloads it)."""
    _admin(state).request_reload(name)
    click.echo(f'plugin "{name}" reloaded successfully.')


def _approval(
    state: CliState,
    name: str,
    approved: bool,
    route: str | None,
    hook: str | None,
    domain: str | None,
    all_routes: bool,
    all_hooks: bool,
    yes: bool,
) -> None:
    admin = _admin(state)
    actor = state.actor.name
    verb = "Approved" if approved else "Revoked"
    if route:
        admin.approve_route(name, route, actor, approved)
        click.echo(f'{verb} 1 route(s) for plugin "{name}".')
    elif hook:
        admin.approve_hook(name, hook, actor, approved)
        click.echo(f'{verb} 1 hook(s) for plugin "{name}".')
    elif domain:
        admin.approve_domain(name, domain, actor, approved)
        click.echo(f'{verb} 1 domain(s) for plugin "{name}".')
    elif all_routes:
        rows: list[Any] = admin.pending_routes(name, approved)
        if not rows:
            click.echo(
                f'no pending routes for "{name}".'
                if approved
                else f'no approved routes for "{name}".'
            )
            return
        for r in rows:
            click.echo(f"  {r.method} {r.path}{' (public)' if r.public else ''}", err=True)
        if _confirm(f"{verb[:-1].lower()}e {len(rows)} route(s)?", yes):
            count = admin.set_routes(name, rows, approved, actor)
            click.echo(f'{verb} {count} route(s) for plugin "{name}".')
    elif all_hooks:
        rows = admin.pending_hooks(name, approved)
        if not rows:
            click.echo(
                f'no pending hooks for "{name}".'
                if approved
                else f'no approved hooks for "{name}".'
            )
            return
        for h in rows:
            click.echo(f"  {h.event}:{h.table}", err=True)
        if _confirm(f"{verb[:-1].lower()}e {len(rows)} hook(s)?", yes):
            count = admin.set_hooks(name, rows, approved, actor)
            click.echo(f'{verb} {count} hook(s) for plugin "{name}".')
    else:
        raise click.UsageError("give one of --route, --hook, --domain, --all-routes, --all-hooks")


def _approval_command(approved: bool) -> Any:
    def command(
        state: CliState,
        name: str,
        route: str | None,
        hook: str | None,
        domain: str | None,
        all_routes: bool,
        all_hooks: bool,
        yes: bool,
    ) -> None:
        _approval(state, name, approved, route, hook, domain, all_routes, all_hooks, yes)

    decorators: list[Callable[[Any], Any]] = [
        click.argument("name"),
        click.option("--route", help='One route, e.g. "GET /products".'),
        click.option("--hook", help='One hook, e.g. "before_create:content_data".'),
        click.option("--domain", help="One outbound domain, e.g. api.example.com."),
        click.option("--all-routes", is_flag=True, help="Every route of the plugin."),
        click.option("--all-hooks", is_flag=True, help="Every hook of the plugin."),
        click.option("--yes", is_flag=True, help="Do not ask for confirmation."),
        pass_state,
    ]
    wrapped: Any = command
    for decorator in reversed(decorators):
        wrapped = decorator(wrapped)
    return wrapped


plugin.command("approve", help="Approve a plugin's routes, hooks or outbound domains.")(
    _approval_command(True)
)
plugin.command("revoke", help="Revoke approval of a plugin's routes, hooks or outbound domains.")(
    _approval_command(False)
)


@plugin.command()
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_state
def install(state: CliState, name: str, yes: bool) -> None:
    """Register plugin NAME as installed and record its pipeline capabilities."""
    from modulacms.plugin_runtime.admin import usable_capabilities

    admin = _admin(state)
    manifest = admin.checked_manifest(name)
    click.echo(f"{'Name:':14} {manifest.name}")
    click.echo(f"{'Version:':14} {manifest.version}")
    click.echo(f"{'Description:':14} {manifest.description}")
    click.echo(f"{'Author:':14} {manifest.author or '-'}")
    capabilities = usable_capabilities(manifest)
    click.echo(f"{'Capabilities:':14} {'-' if not capabilities else ''}".rstrip())
    for c in capabilities:
        click.echo(f"  {c.table}.{c.op} -> {c.handler} (priority {c.priority})")
    access = manifest.core_access_map
    click.echo(f"{'Core access:':14} {'-' if not access else ''}".rstrip())
    for table, ops in access.items():
        click.echo(f"  {table}: {', '.join(ops) or '-'}")
    if not _confirm("Install this plugin?", yes):
        click.echo("install cancelled.")
        return
    click.echo(admin.install(name).message)


@plugin.command()
@click.option("--yes", is_flag=True, help="Drop the orphaned tables (default: only list them).")
@json_option
@pass_state
def cleanup(state: CliState, yes: bool, as_json: bool) -> None:
    """List plugin tables no plugin in the plugin directory owns; drop them with --yes."""
    admin = _admin(state)
    orphans = admin.orphaned_tables()
    if not yes:
        if as_json:
            print_json({"orphaned_tables": orphans, "count": len(orphans), "action": "dry_run"})
        elif not orphans:
            click.echo("no orphaned plugin tables.")
        else:
            for table in orphans:
                click.echo(f"  {table}")
            click.echo(f"{len(orphans)} orphaned table(s); run with --yes to drop them.")
        return
    dropped, refused = admin.drop_orphaned_tables(orphans)
    if as_json:
        print_json(
            {
                "dropped": dropped,
                "count": len(dropped),
                "skipped": [{"table": r.table, "reason": r.reason} for r in refused],
            }
        )
        return
    for table in dropped:
        click.echo(f"  dropped {table}")
    for refusal in refused:
        click.echo(f"  kept {refusal.table}: {refusal.reason}", err=True)
    click.echo(f"dropped {len(dropped)} orphaned table(s).")


@plugin.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("-v", "--verbose", is_flag=True, help="Show every assertion failure in full.")
@click.option("--filter", "name_filter", default="", help="Run tests whose name contains this.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per test (NDJSON).")
@click.option("--timeout", default=5.0, show_default=True, help="Seconds per test.")
def test(path: Path, verbose: bool, name_filter: str, as_json: bool, timeout: float) -> None:
    """Run a plugin's test/*.test.lua files (PATH: a plugin directory, or a plugin of the
    project by name); exit 0 all passed, 1 failures, 2 load error."""
    from modulacms.plugin_runtime.harness import run_plugin_tests

    code = run_plugin_tests(
        _plugin_path(path),
        name_filter=name_filter,
        timeout=timeout,
        as_json=as_json,
        verbose=verbose,
        out=click.echo,
    )
    raise SystemExit(code)
