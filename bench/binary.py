"""``scripts/bench binary``: size and start time of the built dist/modulacms.

The start of ``dist/modulacms --version`` is timed next to ``python -m modulacms
--version`` (the same CLI run unfrozen from the virtualenv), interleaved run by run so
that both see the same machine load; the target is the ratio of the medians. The first
start of a build, which unpacks the program into the cache folder, is timed separately
on fresh cache folders. When ``scripts/build --variants`` left PyInstaller's plain
one-file binary and the program folder in dist/, their starts are printed for
comparison (docs/build.md explains the choice between them).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from bench.common import info, result

SUITE = "binary"
ROOT = Path(__file__).resolve().parent.parent
DIST = ROOT / "dist"
MIB = 1024 * 1024


def _start(command: Sequence[str], cwd: Path, env: dict[str, str]) -> float:
    """Wall time of one run of ``command`` in seconds (it must exit 0)."""
    began = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - began


def _tree_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def _first_starts(binary: Path, work: Path, env: dict[str, str], runs: int) -> float:
    """Median start of ``binary --version`` on a fresh, empty cache folder each time."""
    samples = []
    for index in range(runs):
        cache = work / f"fresh-cache-{index}"
        samples.append(
            _start([str(binary), "--version"], work, dict(env, MODULACMS_CACHE_DIR=str(cache)))
        )
    return statistics.median(samples)


def run(quick: bool = False) -> None:
    binary = DIST / "modulacms"
    if not binary.is_file():
        print(f"SKIP   {SUITE}: {binary} is not built (run scripts/build)", flush=True)
        return
    runs = 7 if quick else 21
    with tempfile.TemporaryDirectory(prefix="modulacms-bench-binary-") as temp:
        work = Path(temp)
        env = dict(os.environ, MODULACMS_CACHE_DIR=str(work / "cache"))
        env.pop("MODULACMS_PROJECT", None)
        commands: dict[str, list[str]] = {
            "binary": [str(binary), "--version"],
            "unfrozen": [sys.executable, "-m", "modulacms", "--version"],
        }
        if (DIST / "modulacms-onefile").is_file():
            commands["pyinstaller_onefile"] = [str(DIST / "modulacms-onefile"), "--version"]
        if (DIST / "modulacms-onedir" / "modulacms").is_file():
            commands["pyinstaller_onedir"] = [
                str(DIST / "modulacms-onedir" / "modulacms"),
                "--version",
            ]

        info(SUITE, "size", binary.stat().st_size / MIB, "MiB")
        first = _first_starts(binary, work, env, 3 if quick else 5)
        info(SUITE, "first_start", first, "s")
        unpacked = [p for p in (work / "fresh-cache-0").iterdir() if p.is_symlink()]
        info(SUITE, "unpacked_size", _tree_bytes(unpacked[0].resolve()) / MIB, "MiB")

        samples: dict[str, list[float]] = {name: [] for name in commands}
        for command in commands.values():  # warm-up: page cache, unpacked build
            _start(command, work, env)
        for _ in range(runs):
            for name, command in commands.items():
                samples[name].append(_start(command, work, env))
        medians = {name: statistics.median(times) for name, times in samples.items()}
        for name, median in medians.items():
            info(SUITE, f"{name}_start", median, "s")
        for name in ("pyinstaller_onefile", "pyinstaller_onedir"):
            if name in medians:
                info(SUITE, f"{name}_vs_unfrozen", medians[name] / medians["unfrozen"], "ratio")
        result(
            SUITE, "start_vs_unfrozen", medians["binary"] / medians["unfrozen"], "ratio", "<=", 2
        )
