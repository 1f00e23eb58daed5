"""``modulacms serve``: run the HTTP API on the project until SIGINT/SIGTERM.

The HTTP stack is imported inside the command, never at module import, so that other
commands stay fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from modulacms.cli.state import CliState, pass_state
from modulacms.config import Settings

if TYPE_CHECKING:
    from modulacms.http.options import ServerOptions


def server_options(settings: Settings) -> ServerOptions:
    """The HTTP server's options from the project settings."""
    from modulacms.http.options import CorsOptions, ServerOptions

    return ServerOptions(
        host=settings.server_host,
        port=settings.server_port,
        workers=settings.server_workers,
        max_body_bytes=settings.server_max_body_bytes,
        max_json_depth=settings.server_max_json_depth,
        keepalive_timeout=settings.server_keepalive_timeout,
        shutdown_grace=settings.server_shutdown_grace,
        access_log="-" if settings.server_access_log else None,
        cache_control=settings.delivery_cache_control,
        cache_max_entries=settings.delivery_cache_max_entries,
        change_poll_interval=settings.delivery_change_poll_interval,
        cors=CorsOptions(origins=settings.server_cors_origins),
        login_attempts_per_minute=settings.server_login_attempts_per_minute,
        session_cookie_secure=settings.auth_secure_cookies,
        scheduler_interval=settings.content_scheduler_interval,
        trust_proxy_headers=settings.server_trust_proxy_headers,
    )


def serving_app(settings: Settings) -> Any:
    """The project's app for one server process, with its plugins started when enabled."""
    from modulacms.project import open_app

    app = open_app(settings)
    if settings.plugins_enabled:
        from modulacms.plugin_runtime.options import RuntimeOptions
        from modulacms.plugin_runtime.runtime import PluginRuntime

        try:
            app.plugins = PluginRuntime(
                app.db, app.services, settings.plugins_dir, RuntimeOptions.from_settings(settings)
            ).start()
        except BaseException:
            app.close()
            raise
    return app


def urls_to_try(base: str, slugs: list[str]) -> list[str]:
    """A handful of addresses worth opening first."""
    urls = [f"{base}/api/v1/health"]
    urls += [f"{base}/api/v1/content{slug}" for slug in slugs[:4]]
    if slugs:
        urls.append(f"{base}/api/v1/content{slugs[0]}?format=raw")
    urls.append(f"{base}/api/v1/openapi.json")
    return urls


@click.command()
@click.option("--host", help="Address to bind (default: server.host, 127.0.0.1).")
@click.option("--port", type=click.IntRange(0, 65535), help="Port (default: server.port, 8080).")
@click.option("--workers", type=click.IntRange(1, 64), help="Processes sharing the port.")
@pass_state
def serve(state: CliState, host: str | None, port: int | None, workers: int | None) -> None:
    """Serve the HTTP API of the project until interrupted (Ctrl+C)."""
    from modulacms.http.runner import run_server
    from modulacms.logs import configure_logging
    from modulacms.project import open_app, project_use

    project = state.project({"server_host": host, "server_port": port, "server_workers": workers})
    settings = project.settings
    configure_logging("serve", level=settings.logging_level, debug=state.debug)
    with open_app(settings) as app:
        slugs = [r.slug for r in app.services.routes.list() if r.is_published]
    with project_use(settings, "server") as registration:

        def ready(url: str) -> None:
            registration.update(url=url)
            click.echo(f"serving {project.root} at {url} (Ctrl+C stops)")
            click.echo("try:")
            for address in urls_to_try(url, slugs):
                click.echo(f"  {address}")

        code: Any = run_server(
            server_options(settings), lambda: serving_app(settings), on_ready=ready
        )
    raise SystemExit(code)
