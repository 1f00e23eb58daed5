"""In-process metrics of the plugin runtime (spec §10.7), rendered as Prometheus text.

Names follow the spec with dots (``plugin.http.requests``); the exposition turns them
into Prometheus names (``plugin_http_requests_total``). Counters only go up, histograms
keep fixed millisecond buckets, gauges hold the last value. Thread-safe.

Hot paths (hooks, VM checkouts) build their label sets once with :func:`label_key` and
record through the ``*_key`` methods, which skip turning a dict into a key per call.
"""

from __future__ import annotations

import math
import threading
from bisect import bisect_left
from collections.abc import Mapping
from dataclasses import dataclass, field

BUCKETS_MS = (1.0, 2.5, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0)

HELP = {
    "plugin.http.requests": "Plugin HTTP handler calls.",
    "plugin.http.duration_ms": "Plugin HTTP handler duration in milliseconds.",
    "plugin.hook.before": "Before-hook (and before_read) executions.",
    "plugin.hook.after": "After-hook (and after_read) executions.",
    "plugin.hook.duration_ms": "Hook duration in milliseconds.",
    "plugin.circuit_breaker.trip": "Plugin circuit breaker trips.",
    "plugin.reload": "Plugin reloads.",
    "plugin.vm.available": "Idle VMs per plugin.",
    "plugin.outbound.requests": "Outbound HTTP requests made by plugins.",
    "plugin.outbound.duration_ms": "Outbound HTTP request duration in milliseconds.",
    "plugin.errors": "Plugin errors by type (sandbox violations, timeouts, memory).",
    "plugin.vm.checkout_wait_ms": "Time spent waiting for a VM in milliseconds.",
}

LabelKey = tuple[tuple[str, str], ...]


def label_key(labels: Mapping[str, object]) -> LabelKey:
    """The registry's key of a label set (values as strings, sorted by name)."""
    return tuple(sorted([(k, v if type(v) is str else str(v)) for k, v in labels.items()]))


@dataclass
class _Histogram:
    counts: list[int] = field(default_factory=lambda: [0] * (len(BUCKETS_MS) + 1))
    total: float = 0.0
    samples: list[float] = field(default_factory=list)

    def observe(self, value: float) -> None:
        # the first bucket whose upper bound is >= value; past the last: the +Inf bucket
        self.counts[bisect_left(BUCKETS_MS, value)] += 1
        self.total += value
        if len(self.samples) < 100_000:
            self.samples.append(value)

    @property
    def count(self) -> int:
        return sum(self.counts)


class MetricsRegistry:
    """Counters, histograms and gauges keyed by name and label set."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counters: dict[str, dict[LabelKey, float]] = {}
        self._histograms: dict[str, dict[LabelKey, _Histogram]] = {}
        self._gauges: dict[str, dict[LabelKey, float]] = {}

    def inc(self, name: str, labels: Mapping[str, object] | None = None, by: float = 1) -> None:
        key = label_key(labels or {})
        with self._lock:
            series = self._counters.setdefault(name, {})
            series[key] = series.get(key, 0) + by

    def observe(self, name: str, value: float, labels: Mapping[str, object] | None = None) -> None:
        self.observe_key(name, value, label_key(labels or {}))

    def inc_key(self, name: str, key: LabelKey, by: float = 1) -> None:
        """:meth:`inc` with a label set already made by :func:`label_key`."""
        with self._lock:
            series = self._counters.setdefault(name, {})
            series[key] = series.get(key, 0) + by

    def observe_key(self, name: str, value: float, key: LabelKey) -> None:
        """:meth:`observe` with a label set already made by :func:`label_key`."""
        with self._lock:
            self._histogram(name, key).observe(value)

    def count_and_observe(self, counter: str, histogram: str, value: float, key: LabelKey) -> None:
        """Count one event in ``counter`` and record ``value`` in ``histogram``, both under
        the label set ``key`` (from :func:`label_key`), taking the lock once."""
        with self._lock:
            series = self._counters.setdefault(counter, {})
            series[key] = series.get(key, 0) + 1
            self._histogram(histogram, key).observe(value)

    def _histogram(self, name: str, key: LabelKey) -> _Histogram:
        """The series ``key`` of histogram ``name``, made on first use (lock held)."""
        series = self._histograms.get(name)
        if series is None:
            series = self._histograms[name] = {}
        found = series.get(key)
        if found is None:
            found = series[key] = _Histogram()
        return found

    def set(self, name: str, value: float, labels: Mapping[str, object] | None = None) -> None:
        with self._lock:
            self._gauges.setdefault(name, {})[label_key(labels or {})] = value

    def counter(self, name: str, labels: Mapping[str, object] | None = None) -> float:
        with self._lock:
            return self._counters.get(name, {}).get(label_key(labels or {}), 0)

    def counter_total(self, name: str, **match: object) -> float:
        """Sum of a counter over every label set containing ``match``."""
        wanted = set(label_key(match))
        with self._lock:
            return sum(v for k, v in self._counters.get(name, {}).items() if wanted <= set(k))

    def gauge(self, name: str, labels: Mapping[str, object] | None = None) -> float | None:
        with self._lock:
            return self._gauges.get(name, {}).get(label_key(labels or {}))

    def samples(self, name: str, labels: Mapping[str, object] | None = None) -> list[float]:
        """The recorded samples of a histogram series, oldest first (bounded)."""
        with self._lock:
            hist = self._histograms.get(name, {}).get(label_key(labels or {}))
            return list(hist.samples) if hist else []

    def quantile(self, name: str, q: float, labels: Mapping[str, object] | None = None) -> float:
        """Quantile of a histogram's recorded samples (for benchmarks and tests)."""
        with self._lock:
            hist = self._histograms.get(name, {}).get(label_key(labels or {}))
            samples = sorted(hist.samples) if hist else []
        if not samples:
            return math.nan
        return samples[min(len(samples) - 1, int(q * len(samples)))]

    def series(self, kind: str) -> list[tuple[str, dict[str, str], float]]:
        """Prometheus-named rows of one kind: ``counter`` (``*_total``), ``gauge``, or
        ``histogram`` (its ``*_count`` and ``*_sum`` rows)."""
        with self._lock:
            if kind == "counter":
                return [
                    (_prom(n) + "_total", dict(k), v)
                    for n, s in sorted(self._counters.items())
                    for k, v in sorted(s.items())
                ]
            if kind == "gauge":
                return [
                    (_prom(n), dict(k), v)
                    for n, s in sorted(self._gauges.items())
                    for k, v in sorted(s.items())
                ]
            rows: list[tuple[str, dict[str, str], float]] = []
            for n, hists in sorted(self._histograms.items()):
                for k, h in sorted(hists.items()):
                    rows.append((_prom(n) + "_count", dict(k), float(h.count)))
                    rows.append((_prom(n) + "_sum", dict(k), h.total))
            return rows

    def render(self) -> str:
        """Prometheus text exposition format (version 0.0.4)."""
        lines: list[str] = []
        with self._lock:
            for name, series in sorted(self._counters.items()):
                prom = _prom(name) + "_total"
                lines += [f"# HELP {prom} {HELP.get(name, name)}", f"# TYPE {prom} counter"]
                lines += [f"{prom}{_fmt(k)} {_num(v)}" for k, v in sorted(series.items())]
            for name, gauges in sorted(self._gauges.items()):
                prom = _prom(name)
                lines += [f"# HELP {prom} {HELP.get(name, name)}", f"# TYPE {prom} gauge"]
                lines += [f"{prom}{_fmt(k)} {_num(v)}" for k, v in sorted(gauges.items())]
            for name, hists in sorted(self._histograms.items()):
                prom = _prom(name)
                lines += [f"# HELP {prom} {HELP.get(name, name)}", f"# TYPE {prom} histogram"]
                for key, hist in sorted(hists.items()):
                    running = 0
                    for bound, count in zip((*BUCKETS_MS, math.inf), hist.counts, strict=True):
                        running += count
                        le = "+Inf" if math.isinf(bound) else _num(bound)
                        lines.append(f"{prom}_bucket{_fmt(key, ('le', le))} {running}")
                    lines.append(f"{prom}_sum{_fmt(key)} {_num(hist.total)}")
                    lines.append(f"{prom}_count{_fmt(key)} {hist.count}")
        return "\n".join(lines) + ("\n" if lines else "")


def _prom(name: str) -> str:
    return name.replace(".", "_")


def _num(value: float) -> str:
    if float(value).is_integer():
        return str(int(value))
    return repr(float(value))


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _fmt(key: LabelKey, extra: tuple[str, str] | None = None) -> str:
    pairs = list(key) + ([extra] if extra else [])
    if not pairs:
        return ""
    return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in pairs) + "}"
