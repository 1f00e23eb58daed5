"""``run_server`` as ``modulacms serve`` runs it: worker processes and signals."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from modulacms.app import build_app
from modulacms.http.testing import Client, build_sample_site

SERVE = """
import sys
from modulacms.app import build_app
from modulacms.http.options import ServerOptions
from modulacms.http.runner import run_server

options = ServerOptions(host="127.0.0.1", port=0, workers=int(sys.argv[2]), access_log=None)
ready = lambda url: print(url, flush=True)  # noqa: E731
sys.exit(run_server(options, lambda: build_app(sys.argv[1]), on_ready=ready))
"""


def start(database: Path, workers: int) -> tuple[subprocess.Popen[str], int]:
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVE, str(database), str(workers)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    url = proc.stdout.readline().strip()
    assert url.startswith("http://127.0.0.1:"), url
    return proc, int(url.rsplit(":", 1)[1])


def test_two_workers_share_the_port_and_stop_on_sigterm(tmp_path: Path) -> None:
    database = tmp_path / "site.db"
    with build_app(database) as app:
        build_sample_site(app.services, tree_nodes=3)
    proc, port = start(database, 2)
    try:
        seen: set[int] = set()
        deadline = time.monotonic() + 20
        while seen != {0, 1}:
            assert time.monotonic() < deadline, f"only workers {seen} answered"
            client = Client("127.0.0.1", port)  # a new connection each time
            seen.add(client.get("/api/v1/health").json()["worker"])
            assert client.get("/api/v1/content/").status == 200
            client.close()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.stdout is not None
    proc.stdout.close()


def test_sigint_stops_a_single_worker_server(tmp_path: Path) -> None:
    database = tmp_path / "site.db"
    proc, port = start(database, 1)
    try:
        client = Client("127.0.0.1", port)
        assert client.get("/api/v1/health").json()["worker"] == 0
        client.close()
        os.kill(proc.pid, signal.SIGINT)
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.stdout is not None
    proc.stdout.close()
