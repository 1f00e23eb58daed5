"""The publish_at scheduler: publishes scheduled routes once their time has come.

It runs in exactly one process (worker 0 of ``run_server``); ``publish_due`` is also safe
against a second runner, because it re-checks each route's status inside its
transaction. Published routes are dropped from the delivery cache at once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)


class Scheduler:
    """Calls ``publish_due()`` every ``interval`` seconds from a daemon thread."""

    def __init__(
        self,
        publish_due: Callable[[], list[Any]],
        interval: float,
        on_published: Callable[[str], object],
    ) -> None:
        self._publish_due = publish_due
        self._interval = interval
        self._on_published = on_published
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="publish-scheduler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def tick(self) -> int:
        """Publish what is due now; returns how many routes were published."""
        versions = self._publish_due()
        for version in versions:
            log.info("published scheduled route %s (version %s)", version.route_id, version.version)
            self._on_published(version.route_id)
        return len(versions)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.tick()
            except Exception:
                log.exception("scheduled publishing failed; retrying next interval")
