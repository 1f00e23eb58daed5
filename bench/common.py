"""Shared helpers for the benchmark suites: timing and the RESULT line format."""

from __future__ import annotations

import operator
import statistics
import time
from collections.abc import Callable

_OPS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le,
    ">=": operator.ge,
    "<": operator.lt,
    ">": operator.gt,
}


def result(suite: str, name: str, value: float, unit: str, op: str, target: float) -> bool:
    """Print one verdict line: ``RESULT <suite>.<name> <value> <unit> target <op><n> PASS|FAIL``."""
    ok = _OPS[op](value, target)
    print(
        f"RESULT {suite}.{name} {value:.3f} {unit} target {op}{target:g} "
        f"{'PASS' if ok else 'FAIL'}",
        flush=True,
    )
    return ok


def info(suite: str, name: str, value: float, unit: str) -> None:
    """Print a figure that has no target (for information only)."""
    print(f"INFO   {suite}.{name} {value:.3f} {unit}", flush=True)


def median_time(fn: Callable[[], object], runs: int = 7, warmup: int = 1) -> float:
    """Median wall time of ``fn()`` in seconds over ``runs`` runs."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def paired_medians(
    first: Callable[[], object], second: Callable[[], object], runs: int = 51, warmup: int = 3
) -> tuple[float, float]:
    """Median times of two functions measured alternately, so that load from other
    processes falls on both alike."""
    for _ in range(warmup):
        first()
        second()
    a, b = [], []
    for _ in range(runs):
        start = time.perf_counter()
        first()
        middle = time.perf_counter()
        second()
        a.append(middle - start)
        b.append(time.perf_counter() - middle)
    return statistics.median(a), statistics.median(b)
