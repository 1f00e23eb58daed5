"""``scripts/bench http``: delivery throughput against a stdlib "ceiling" server.

The ceiling is the least a server of this design can do: ``ThreadingHTTPServer`` with
HTTP/1.1 keep-alive, ``TCP_NODELAY`` and one write per response, answering every GET
with the same bytes from memory. Both run as separate processes on this machine and are
loaded by ``wrk`` (one thread, 16 and 64 connections) in the same run, so the ratios
hold on a noisy shared machine. ``wrk`` is installed with apt when missing.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

from bench.common import info, result

ROUNDS = 3
"""Alternating rounds per comparison; each side keeps its best."""

SUITE = "http"

CEILING = r"""
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

body = open(sys.argv[1], "rb").read()
head = (
    b"HTTP/1.1 200 OK\r\nServer: ceiling\r\nContent-Type: application/json\r\n"
    b"Content-Length: %d\r\nETag: \"0123456789abcdef01234567\"\r\n"
    b"Cache-Control: public, max-age=0, s-maxage=60, must-revalidate\r\n\r\n" % len(body)
)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def do_GET(self):
        self.wfile.write(head + body)

    def log_message(self, *args):
        pass


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def handle_error(self, request, client_address):
        pass  # wrk resets its connections at the end of a run


server = Server(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
"""

SERVE = r"""
import sys
from dataclasses import replace
from modulacms.app import build_app
from modulacms.http.options import ServerOptions
from modulacms.http.runner import run_server

database, workers = sys.argv[1], int(sys.argv[2])
options = ServerOptions(host="127.0.0.1", port=0, workers=workers, access_log=None)
ready = lambda url: print(url, flush=True)  # noqa: E731
sys.exit(run_server(options, lambda: build_app(database), on_ready=ready))
"""


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    print("installing wrk (apt) ...", file=sys.stderr, flush=True)
    subprocess.run(["apt-get", "update", "-qq"], check=False, capture_output=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, capture_output=True)
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk is not available and could not be installed")
    return found


class Process:
    """A server in a child process; its first stdout line is its port or URL."""

    def __init__(self, args: list[str]) -> None:
        root = Path(__file__).resolve().parent.parent
        env = dict(os.environ, PYTHONPATH=str(root))
        self.proc = subprocess.Popen(
            [sys.executable, "-c", *args], stdout=subprocess.PIPE, text=True, cwd=root, env=env
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().strip()
        if not line:
            raise SystemExit(f"server did not start: {args[1:]}")
        self.base = line if line.startswith("http") else f"http://127.0.0.1:{line}"

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def wrk(
    wrk_bin: str, url: str, connections: int, seconds: int, headers: dict[str, str] | None = None
) -> tuple[float, float]:
    """(requests per second, p99 latency in ms) of one wrk run after a short warm-up."""
    extra = [arg for k, v in (headers or {}).items() for arg in ("-H", f"{k}: {v}")]
    base = [wrk_bin, "-t1", f"-c{connections}", *extra]
    subprocess.run([*base, "-d1s", url], check=True, capture_output=True)
    out = subprocess.run(
        [*base, f"-d{seconds:g}s", "--latency", url], check=True, capture_output=True, text=True
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise SystemExit(f"{url}: {errors.group(1)} error responses\n{out}")
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", out)
    assert p99 is not None, out
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    return rate, float(p99.group(1)) * scale


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        return bytes(response.read())


def seed(database: Path, pages: int) -> str:
    """Copy the cached benchmark site (``pages`` published pages and the 50-node ``/tree``),
    add ``/home`` (one page, 10 fields, about 2 KB as ``clean``) and an admin token for
    preview; returns the token."""
    from bench.sites import site
    from modulacms.app import build_app
    from modulacms.core.models import Actor

    shutil.copyfile(site(pages, quiet=True), database)
    system = Actor.system("bench")
    with build_app(database) as app:
        services = app.services
        services.routes.create("/home", system, title="Home")
        values: dict[str, object] = {"title": "Home", "category": "c1", "rank": 1}
        values |= {
            f"f{k}": f"Paragraph {k}: " + "fast cacheable delivery " * 8 for k in range(3, 10)
        }
        services.content.create("/home", "page", values, system)
        services.publishing.publish("/home", system)
        user = services.users.create("bench@example.com", "bench-password-1", system, role="admin")
        return str(services.auth.create_token("bench", system, user_id=user.user_id).secret)


def compare(
    wrk_bin: str, name: str, ours_url: str, body: bytes, tmp: Path, seconds: int
) -> dict[int, tuple[float, float, float, float]]:
    """Load ours and the ceiling serving ``body``; {connections: (ours, ceiling, p99s)}."""
    body_file = tmp / f"{name}.json"
    body_file.write_bytes(body)
    ceiling = Process([CEILING, str(body_file)])
    figures = {}
    try:
        for connections in (16, 64):
            # alternate the two servers and keep each one's best round (highest rate, lowest
            # p99): the machine is shared, and a burst of someone else's work should not
            # decide the verdict
            ceiling_runs, ours_runs = [], []
            for _ in range(ROUNDS):
                ceiling_runs.append(wrk(wrk_bin, ceiling.base + "/", connections, seconds))
                ours_runs.append(wrk(wrk_bin, ours_url, connections, seconds))
            ceiling_rate = max(rate for rate, _ in ceiling_runs)
            ceiling_p99 = min(p99 for _, p99 in ceiling_runs)
            ours_rate = max(rate for rate, _ in ours_runs)
            ours_p99 = min(p99 for _, p99 in ours_runs)
            info(SUITE, f"{name}.c{connections}.ours", ours_rate, "req/s")
            info(SUITE, f"{name}.c{connections}.ceiling", ceiling_rate, "req/s")
            info(SUITE, f"{name}.c{connections}.ours_p99", ours_p99, "ms")
            info(SUITE, f"{name}.c{connections}.ceiling_p99", ceiling_p99, "ms")
            figures[connections] = (ours_rate, ceiling_rate, ours_p99, ceiling_p99)
    finally:
        ceiling.stop()
    return figures


def ratio(figures: dict[int, tuple[float, float, float, float]]) -> float:
    """Ours over the ceiling, the worse of the two connection counts."""
    return min(ours / ceiling for ours, ceiling, _, _ in figures.values())


def run(quick: bool = False) -> None:
    global ROUNDS
    wrk_bin = ensure_wrk()
    seconds = 2 if quick else 5
    ROUNDS = 2 if quick else 3
    pages = 5_000 if quick else 50_000
    with tempfile.TemporaryDirectory(prefix="bench-http-") as name:
        tmp = Path(name)
        database = tmp / "site.db"
        token = seed(database, pages)
        ours = Process([SERVE, str(database), "1"])
        try:
            page_url = ours.base + "/api/v1/content/home"
            tree_url = ours.base + "/api/v1/content/tree"
            page_body, tree_body = fetch(page_url), fetch(tree_url)
            info(SUITE, "page.bytes", len(page_body), "bytes")
            info(SUITE, "tree.bytes", len(tree_body), "bytes")
            page = compare(wrk_bin, "page", page_url, page_body, tmp, seconds)
            tree = compare(wrk_bin, "tree", tree_url, tree_body, tmp, seconds)
            auth = {"Authorization": f"Bearer {token}"}
            rate, p99 = wrk(wrk_bin, tree_url + "?preview=true", 16, seconds, auth)
            info(SUITE, "preview_tree50.c16", rate, "req/s")
            info(SUITE, "preview_tree50.c16_p99", p99, "ms")
            query = "/api/v1/query/page?category[eq]=c3&rank[gte]=500&sort=-rank"
            rate, p99 = wrk(wrk_bin, ours.base + query, 16, seconds)
            info(SUITE, f"query_2_filters_{pages}_pages.c16", rate, "req/s")
            info(SUITE, f"query_2_filters_{pages}_pages.c16_p99", p99, "ms")
        finally:
            ours.stop()
        result(SUITE, "page_vs_ceiling", ratio(page), "ratio", ">=", 0.7)
        result(SUITE, "tree50_vs_ceiling", ratio(tree), "ratio", ">=", 0.6)
        p99_ratio = page[16][2] / page[16][3]
        result(SUITE, "p99_c16_vs_ceiling", p99_ratio, "ratio", "<=", 2.0)
        one, two = Process([SERVE, str(database), "1"]), Process([SERVE, str(database), "2"])
        one_worker: dict[int, float] = {}
        two_workers: dict[int, float] = {}
        try:
            for c in (16, 64):
                # interleaved rounds, best of each, as in compare()
                ones, twos = [], []
                for _ in range(ROUNDS):
                    ones.append(wrk(wrk_bin, one.base + "/api/v1/content/home", c, seconds)[0])
                    twos.append(wrk(wrk_bin, two.base + "/api/v1/content/home", c, seconds)[0])
                one_worker[c], two_workers[c] = max(ones), max(twos)
        finally:
            one.stop()
            two.stop()
        for c in (16, 64):
            info(SUITE, f"workers2.c{c}", two_workers[c], "req/s")
            info(SUITE, f"workers1.c{c}", one_worker[c], "req/s")
        scaling = min(two_workers[c] / one_worker[c] for c in (16, 64))
        result(SUITE, "workers2_vs_workers1", scaling, "ratio", ">=", 1.4)


if __name__ == "__main__":
    run(quick="--quick" in sys.argv)
