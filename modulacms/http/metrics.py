"""Request metrics in the Prometheus text exposition format (version 0.0.4)."""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable, Iterable

BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)

ExtraMetrics = Callable[[], Iterable[tuple[str, str, dict[str, str], float]]]
"""Yields (name, type, labels, value) rows, e.g. plugin counters."""


class Metrics:
    """Counters and a latency histogram, safe to update from every request thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: dict[tuple[str, str, int], int] = {}
        self._buckets: dict[str, list[int]] = {}
        self._sums: dict[str, float] = {}
        self.cache_hits = 0
        self.cache_misses = 0
        self.extra: list[ExtraMetrics] = []

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        key = (route, method, status)
        slot = bisect.bisect_left(BUCKETS, seconds)
        with self._lock:
            self._requests[key] = self._requests.get(key, 0) + 1
            counts = self._buckets.get(route)
            if counts is None:
                counts = self._buckets[route] = [0] * (len(BUCKETS) + 1)
                self._sums[route] = 0.0
            counts[slot] += 1
            self._sums[route] += seconds

    def cache(self, hit: bool) -> None:
        with self._lock:
            if hit:
                self.cache_hits += 1
            else:
                self.cache_misses += 1

    def render(self) -> str:
        """The whole registry as Prometheus text."""
        out: list[str] = []
        with self._lock:
            requests = dict(self._requests)
            buckets = {k: list(v) for k, v in self._buckets.items()}
            sums = dict(self._sums)
            hits, misses = self.cache_hits, self.cache_misses
        out.append(
            "# HELP modulacms_http_requests_total HTTP requests by route, method and status."
        )
        out.append("# TYPE modulacms_http_requests_total counter")
        for (route, method, status), count in sorted(requests.items()):
            labels = _labels({"route": route, "method": method, "status": str(status)})
            out.append(f"modulacms_http_requests_total{labels} {count}")
        out.append("# HELP modulacms_http_request_duration_seconds Request latency by route.")
        out.append("# TYPE modulacms_http_request_duration_seconds histogram")
        for route, counts in sorted(buckets.items()):
            running = 0
            for bound, count in zip((*BUCKETS, float("inf")), counts, strict=True):
                running += count
                le = "+Inf" if bound == float("inf") else repr(bound)
                labels = _labels({"route": route, "le": le})
                out.append(f"modulacms_http_request_duration_seconds_bucket{labels} {running}")
            labels = _labels({"route": route})
            out.append(f"modulacms_http_request_duration_seconds_sum{labels} {sums[route]:.6f}")
            out.append(f"modulacms_http_request_duration_seconds_count{labels} {running}")
        out.append(
            "# HELP modulacms_delivery_cache_hits_total Delivery responses served from cache."
        )
        out.append("# TYPE modulacms_delivery_cache_hits_total counter")
        out.append(f"modulacms_delivery_cache_hits_total {hits}")
        out.append(
            "# HELP modulacms_delivery_cache_misses_total Delivery responses rendered afresh."
        )
        out.append("# TYPE modulacms_delivery_cache_misses_total counter")
        out.append(f"modulacms_delivery_cache_misses_total {misses}")
        out.extend(self._render_extra())
        return "\n".join(out) + "\n"

    def _render_extra(self) -> list[str]:
        out: list[str] = []
        typed: set[str] = set()
        for source in self.extra:
            for name, kind, labels, value in source():
                if name not in typed:
                    typed.add(name)
                    out.append(f"# TYPE {name} {kind}")
                out.append(f"{name}{_labels(labels)} {value:g}")
        return out


def _labels(labels: dict[str, str]) -> str:
    if not labels:
        return ""
    inner = ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items())
    return "{" + inner + "}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')
