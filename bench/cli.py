"""``scripts/bench cli``: start-up cost of the command line, and export/import rates.

RESULT lines:
- cli.help_vs_python: wall time of ``modulacms --help`` over ``python -c pass``, both run
  as fresh processes in the same run, alternately. Target <= 4.

INFO lines: the absolute times, ``modulacms content tree /`` on the demo project (and its
ratio to ``python -c pass``), and the export and import rates in nodes per second of the
benchmark site of 50,000 pages (5,000 with --quick), each through the real CLI.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import info, paired_medians, result
from bench.sites import site

SUITE = "cli"


def _command() -> list[str]:
    """How the installed ``modulacms`` is started (the console script when present)."""
    script = Path(sys.executable).with_name("modulacms")
    return [str(script)] if script.exists() else [sys.executable, "-m", "modulacms"]


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("MODULACMS_")}


def _runner(args: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess[bytes]:
    done = subprocess.run(
        args, cwd=cwd, env=_env(), stdin=subprocess.DEVNULL, capture_output=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed: {done.stderr.decode()[-500:]}")
    return done


def _timed(args: list[str], cwd: Path | None = None) -> float:
    start = time.perf_counter()
    _runner(args, cwd)
    return time.perf_counter() - start


def startup(work: Path, runs: int) -> None:
    """``--help`` and ``content tree /`` next to ``python -c pass``."""
    cli = _command()
    demo = work / "demo"
    _runner([*cli, "init", str(demo), "--demo", "--admin-password", "bench-password"])
    bare = [sys.executable, "-c", "pass"]
    helped, python = paired_medians(
        lambda: _runner([*cli, "--help"]), lambda: _runner(bare), runs=runs, warmup=2
    )
    tree, python2 = paired_medians(
        lambda: _runner([*cli, "content", "tree", "/"], demo),
        lambda: _runner(bare),
        runs=runs,
        warmup=2,
    )
    info(SUITE, "python_pass_ms", (python + python2) / 2 * 1000, "ms")
    info(SUITE, "help_ms", helped * 1000, "ms")
    info(SUITE, "content_tree_ms", tree * 1000, "ms")
    info(SUITE, "content_tree_vs_python", tree / python2, "ratio")
    result(SUITE, "help_vs_python", helped / python, "ratio", "<=", 4)


def transfer(work: Path, pages: int) -> None:
    """Export the generated site and import it into an empty project, through the CLI."""
    cli = _command()
    source, target = work / "source", work / "target"
    for project in (source, target):
        _runner([*cli, "init", str(project), "--admin-password", "bench-password"])
    # the generated site becomes the source project's database
    for suffix in ("", "-wal", "-shm"):
        (source / f"modulacms.db{suffix}").unlink(missing_ok=True)
    shutil.copyfile(site(pages), source / "modulacms.db")
    document = work / "site.json"
    start = time.perf_counter()
    report = _runner([*cli, "--project", str(source), "export", str(document), "--json"])
    exported = time.perf_counter() - start
    nodes = int(json.loads(report.stdout)["nodes"])
    imported = _timed([*cli, "--project", str(target), "import", str(document)])
    info(SUITE, f"export_{pages}_pages_s", exported, "s")
    info(SUITE, f"import_{pages}_pages_s", imported, "s")
    info(SUITE, "export_rate", nodes / exported, "nodes/s")
    info(SUITE, "import_rate", nodes / imported, "nodes/s")


def run(quick: bool) -> None:
    work = Path(tempfile.mkdtemp(prefix="modulacms-bench-cli-"))
    try:
        startup(work, runs=11 if quick else 31)
        transfer(work, 5_000 if quick else 50_000)
    finally:
        shutil.rmtree(work, ignore_errors=True)
