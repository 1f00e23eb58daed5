"""Circuit breakers, metrics exposition and route rules (pure code)."""

from __future__ import annotations

import pytest

from modulacms.plugin_runtime.breaker import BreakerState, CircuitBreaker, HookBreaker
from modulacms.plugin_runtime.metrics import MetricsRegistry
from modulacms.plugin_runtime.routes import (
    RouteError,
    RoutePattern,
    best_match,
    check_method,
    check_path,
    split_plugin_path,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_breaker_opens_after_consecutive_failures_and_half_opens_later() -> None:
    clock = Clock()
    trips: list[str] = []
    breaker = CircuitBreaker(3, 60, clock=clock, on_trip=trips.append)
    breaker.record_failure()
    breaker.record_failure()
    breaker.record_success()  # any success resets the count
    for _ in range(3):
        assert breaker.allow()
        breaker.record_failure()
    assert breaker.state is BreakerState.OPEN and not breaker.allow()
    assert trips == ["3 consecutive failures"]
    clock.now += 59
    assert not breaker.allow()
    clock.now += 1
    assert breaker.state is BreakerState.HALF_OPEN
    assert breaker.allow() and breaker.allow()  # half-open admits every request
    breaker.record_failure()
    assert breaker.state is BreakerState.OPEN and len(trips) == 2
    clock.now += 60
    breaker.record_success()
    assert breaker.state is BreakerState.CLOSED


def test_breaker_force_trip_and_reset() -> None:
    breaker = CircuitBreaker(5, 60, clock=Clock())
    breaker.trip("disabled by admin")
    assert breaker.state is BreakerState.OPEN and breaker.reason == "disabled by admin"
    breaker.reset()
    assert breaker.state is BreakerState.CLOSED and breaker.failures == 0


def test_hook_breaker_disables_after_threshold_including_wildcards() -> None:
    hb = HookBreaker(3)
    key = HookBreaker.key("p", "before_create", "*")
    assert [hb.record_failure(key) for _ in range(3)] == [False, False, True]
    assert hb.disabled(key)
    hb.set_enabled(key, True)
    assert not hb.disabled(key)
    hb.record_failure(key)
    hb.record_success(key)
    hb.record_failure(key)
    hb.record_failure(key)
    assert not hb.disabled(key)
    hb.record_failure(key)
    hb.clear_plugin("p")
    assert not hb.disabled(key)


def test_metrics_prometheus_text() -> None:
    m = MetricsRegistry()
    m.inc("plugin.http.requests", {"plugin": "shop", "method": "GET", "status": "200"})
    m.inc("plugin.http.requests", {"plugin": "shop", "method": "GET", "status": "200"})
    m.observe("plugin.http.duration_ms", 3.0, {"plugin": "shop"})
    m.set("plugin.vm.available", 3, {"plugin": "shop"})
    text = m.render()
    assert "# TYPE plugin_http_requests_total counter" in text
    assert 'plugin_http_requests_total{method="GET",plugin="shop",status="200"} 2' in text
    assert 'plugin_http_duration_ms_bucket{plugin="shop",le="5"} 1' in text
    assert 'plugin_http_duration_ms_bucket{plugin="shop",le="+Inf"} 1' in text
    assert 'plugin_http_duration_ms_count{plugin="shop"} 1' in text
    assert 'plugin_vm_available{plugin="shop"} 3' in text
    assert m.counter_total("plugin.http.requests", plugin="shop") == 2
    assert m.quantile("plugin.http.duration_ms", 0.99, {"plugin": "shop"}) == 3.0


@pytest.mark.parametrize("path", ["/ok", "/items/{id}", "/a/b.c-d_e", "/files/", "/", "/{a}/{b}"])
def test_valid_paths(path: str) -> None:
    check_path(path)


@pytest.mark.parametrize(
    "path",
    [
        "",
        "x",
        "/a/../b",
        "/a?b",
        "/a#b",
        "/a b",
        "/é",
        "/a{b}",
        "/{1x}",
        "/{a}/{a}",
        "/" + "a" * 256,
    ],
)
def test_invalid_paths(path: str) -> None:
    with pytest.raises(RouteError, match="invalid route path"):
        check_path(path)


def test_methods() -> None:
    check_method("PATCH")
    with pytest.raises(RouteError, match="must be GET, POST, PUT, DELETE, or PATCH"):
        check_method("get")


def test_matching_and_specificity() -> None:
    routes = [
        (RoutePattern.parse("/items/{id}"), "param"),
        (RoutePattern.parse("/items/special"), "literal"),
        (RoutePattern.parse("/files/"), "subtree"),
        (RoutePattern.parse("/"), "root"),
    ]
    assert best_match(routes, "GET", "/items/abc%20d") == ("param", {"id": "abc d"})
    assert best_match(routes, "GET", "/items/special") == ("literal", {})
    assert best_match(routes, "GET", "/files/a/b") == ("subtree", {})
    assert best_match(routes, "GET", "/items") == ("root", {})
    assert RoutePattern.parse("/items/{id}").match("/items/") is None
    assert RoutePattern.parse("/items/{id}").match("/items/a/b") is None


def test_split_plugin_path() -> None:
    assert split_plugin_path("/api/v1/plugins/shop/products") == ("shop", "/products")
    assert split_plugin_path("/api/v1/plugins/shop") == ("shop", "/")
    assert split_plugin_path("/api/v1/content/x") is None
