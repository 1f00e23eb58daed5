"""The access log: one line per request, to stderr or a file, flushed in the background.

Request threads only append to a buffer under a lock; a writer thread flushes it twice a
second, so a slow disk or terminal never sits on the request path.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO


class AccessLog:
    """``target`` is ``"-"`` for stderr or a file path (appended to)."""

    def __init__(self, target: str, *, flush_interval: float = 0.5) -> None:
        self._owned = target != "-"
        self._out: TextIO = open(target, "a", encoding="utf-8") if self._owned else sys.stderr  # noqa: SIM115
        self._lines: list[str] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._interval = flush_interval
        self._thread = threading.Thread(target=self._run, name="access-log", daemon=True)
        self._thread.start()

    def record(
        self,
        client: str,
        user: str,
        method: str,
        target: str,
        status: int,
        size: int,
        seconds: float,
        agent: str,
    ) -> None:
        stamp = time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime())
        line = (
            f'{client} - {user or "-"} [{stamp}] "{method} {_clean(target)} HTTP/1.1" '
            f'{status} {size} {seconds * 1000:.2f}ms "{_clean(agent)}"\n'
        )
        with self._lock:
            self._lines.append(line)

    def flush(self) -> None:
        with self._lock:
            lines, self._lines = self._lines, []
        if lines:
            try:
                self._out.write("".join(lines))
                self._out.flush()
            except (OSError, ValueError):
                pass  # a closed or full stream must not take the server down

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.flush()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.flush()
        if self._owned:
            self._out.close()


def _clean(text: str) -> str:
    """Keep log lines one line each whatever a client sends."""
    return (
        text.replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("\n", "\\n")
        .replace("\r", "\\r")[:2000]
    )
