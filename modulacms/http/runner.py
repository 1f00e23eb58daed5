"""Building a server for a services registry, and running it in one or more processes.

``run_server`` is what ``modulacms serve`` calls. With ``workers > 1`` the parent process
reserves the port (a bound, non-listening ``SO_REUSEPORT`` socket, so that port 0 works),
then forks the workers; each opens its own services (SQLite connections must not cross a
fork) and its own listening socket on that port, and the kernel spreads connections over
them. Only worker 0 runs the publish_at scheduler. SIGINT/SIGTERM make every process
finish its in-flight requests and exit.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, Protocol

from modulacms.http.accesslog import AccessLog
from modulacms.http.api import Api
from modulacms.http.cache import ChangeWatcher, ResponseCache
from modulacms.http.context import Context
from modulacms.http.dispatch import Dispatcher
from modulacms.http.handlers import register_all
from modulacms.http.handlers.content import route_state
from modulacms.http.handlers.plugins import plugin_api
from modulacms.http.options import ServerOptions
from modulacms.http.ratelimit import RateLimiter
from modulacms.http.routes import Router
from modulacms.http.scheduler import Scheduler
from modulacms.http.server import ModulaServer

log = logging.getLogger(__name__)


class AppLike(Protocol):
    """What ``run_server`` needs from the composition root's ``App``."""

    @property
    def services(self) -> Any: ...

    def close(self) -> None: ...


def build_server(
    services: Any,
    options: ServerOptions,
    *,
    worker: int = 0,
    reuse_port: bool = False,
    change_token: Callable[[], object] | None = None,
    apis: Sequence[Api] = (),
) -> ModulaServer:
    """A bound, not yet serving server for ``services``; call ``start()`` or ``serve_forever()``.

    ``change_token`` (cheap, changes whenever any process commits to the database) lets
    the delivery cache notice publishes made elsewhere within ``change_poll_interval``.
    ``apis`` are extra endpoint tables (plugin routes, for instance) served and documented
    next to the built-in ones; sources of extra metrics go to
    ``server.dispatcher.context.metrics.extra``.
    """
    context = Context(
        options,
        services,
        cache=ResponseCache(options.cache_max_entries),
        login_limiter=RateLimiter(options.login_attempts_per_minute, 60.0),
        worker=worker,
    )
    router = Router()
    register_all(router)
    for extra in apis:
        extra.register(router)
    context.router = router
    access = AccessLog(options.access_log) if options.access_log else None
    server = ModulaServer(
        options, Dispatcher(router, context), reuse_port=reuse_port, access_log=access
    )
    if access is not None:
        server.on_stop.append(access.close)
    if options.scheduler_enabled and worker == 0:
        scheduler = Scheduler(
            services.publishing.publish_due,
            options.scheduler_interval,
            context.cache.invalidate_route,
        )
        scheduler.start()
        server.on_stop.append(scheduler.stop)
    if change_token is not None:
        watcher = ChangeWatcher(
            change_token,
            lambda: context.cache.revalidate(lambda ids: route_state(services, ids)),
            options.change_poll_interval,
        )
        watcher.start()
        server.on_stop.append(watcher.stop)
    return server


def change_token_of(app: AppLike) -> Callable[[], object] | None:
    """The app's database change counter (``PRAGMA data_version``), however it is offered."""
    token = getattr(app.services, "change_token", None)
    if callable(token):
        return token  # type: ignore[no-any-return]
    database = getattr(app, "db", None)
    version = getattr(database, "data_version", None)
    return version if callable(version) else None


def _wait_for_signal(stop: threading.Event) -> None:
    def handler(signum: int, frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)


def _serve_one(
    options: ServerOptions,
    app_factory: Callable[[], AppLike],
    worker: int,
    reuse_port: bool,
    on_ready: Callable[[str], None] | None,
) -> int:
    stop = threading.Event()
    _wait_for_signal(stop)
    app = app_factory()
    try:
        plugins = getattr(app, "plugins", None)
        server = build_server(
            app.services,
            options,
            worker=worker,
            reuse_port=reuse_port,
            change_token=change_token_of(app),
            apis=[plugin_api(plugins)] if plugins is not None else [],
        )
        if plugins is not None:
            server.dispatcher.context.metrics.extra.append(plugins.metric_rows)
        server.start()
        if on_ready is not None:
            on_ready(server.url)
        while not stop.wait(0.5):
            pass
        log.info("worker %d shutting down", worker)
        server.stop()
    finally:
        app.close()
    return 0


def _worker_main(options: ServerOptions, app_factory: Callable[[], AppLike], worker: int) -> None:
    _serve_one(options, app_factory, worker, True, None)


def run_server(
    options: ServerOptions,
    app_factory: Callable[[], AppLike],
    *,
    on_ready: Callable[[str], None] | None = None,
) -> int:
    """Serve until SIGINT/SIGTERM; returns the process exit code.

    ``app_factory`` is called once per worker process (after the fork) and must return a
    fresh App; ``on_ready`` receives the base URL once every worker is listening.
    """
    if options.workers <= 1:
        return _serve_one(options, app_factory, 0, False, on_ready)
    reserve = socket.socket(socket.AF_INET6 if ":" in options.host else socket.AF_INET)
    reserve.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    reserve.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    reserve.bind((options.host, options.port))
    port = reserve.getsockname()[1]
    options = replace(options, port=port)
    stop = threading.Event()
    _wait_for_signal(stop)
    ctx = multiprocessing.get_context("fork")
    procs: dict[int, Any] = {}

    def spawn(index: int) -> None:
        # only worker 0 publishes scheduled content
        worker_options = options if index == 0 else replace(options, scheduler_enabled=False)
        proc = ctx.Process(
            target=_worker_main, args=(worker_options, app_factory, index), name=f"worker-{index}"
        )
        proc.start()
        procs[index] = proc

    try:
        for index in range(options.workers):
            spawn(index)
        if on_ready is not None and _wait_listening(options.host, port, 30.0):
            on_ready(f"http://{options.host}:{port}")
        last_spawn = 0.0
        while not stop.wait(0.5):
            for index, proc in list(procs.items()):
                if not proc.is_alive() and time.monotonic() - last_spawn > 1.0:
                    log.error("worker %d exited with %s; restarting it", index, proc.exitcode)
                    last_spawn = time.monotonic()
                    spawn(index)
    finally:
        for proc in procs.values():
            if proc.is_alive() and proc.pid is not None:
                proc.terminate()
        for proc in procs.values():
            proc.join(options.shutdown_grace + 5)
        reserve.close()
    return 0


def _wait_listening(host: str, port: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False
