"""Cache, rate limiter, CORS, metrics and error mapping: the server's pure parts."""

from __future__ import annotations

import pytest

from modulacms.errors import (
    BadRequest,
    Conflict,
    FieldError,
    Forbidden,
    NotFound,
    RateLimited,
    StoreError,
    Unauthorized,
    ValidationFailed,
)
from modulacms.http.cache import ResponseCache, etag_matches
from modulacms.http.cors import Cors
from modulacms.http.metrics import Metrics
from modulacms.http.options import CorsOptions
from modulacms.http.ratelimit import RateLimiter
from modulacms.http.responses import error_response, status_of


def test_cache_put_get_and_etag() -> None:
    cache = ResponseCache()
    entry = cache.put(("", "/a", "clean", ""), b"{}", "R1", "/a", "V1", cache.generation)
    assert cache.get(("", "/a", "clean", "")) is entry
    assert entry.etag.startswith('"') and entry.etag.endswith('"')
    assert etag_matches(entry.etag, entry.etag)
    assert etag_matches(f'"x", W/{entry.etag}', entry.etag)
    assert etag_matches("*", entry.etag)
    assert not etag_matches('"other"', entry.etag)
    assert not etag_matches("", entry.etag)


def test_cache_invalidation_is_per_route() -> None:
    cache = ResponseCache()
    for fmt in ("clean", "raw"):
        cache.put(("", "/a", fmt, ""), b"a", "RA", "/a", "V1", cache.generation)
    cache.put(("", "/b", "clean", ""), b"b", "RB", "/b", "V1", cache.generation)
    assert cache.invalidate_route("RA") == 2
    assert len(cache) == 1 and cache.get(("", "/b", "clean", "")) is not None


def test_cache_refuses_a_body_rendered_before_an_invalidation() -> None:
    cache = ResponseCache()
    generation = cache.generation
    cache.invalidate_route("RA")  # a publish lands while the old version is rendered
    cache.put(("", "/a", "clean", ""), b"old", "RA", "/a", "V1", generation)
    assert cache.get(("", "/a", "clean", "")) is None


def test_cache_revalidate_drops_changed_routes_only() -> None:
    cache = ResponseCache()
    cache.put(("", "/a", "clean", ""), b"a", "RA", "/a", "V1", cache.generation)
    cache.put(("", "/b", "clean", ""), b"b", "RB", "/b", "V1", cache.generation)
    cache.put(("", "/c", "clean", ""), b"c", "RC", "/c", "V1", cache.generation)
    state = {"RA": ("/a", "V2"), "RB": ("/b", "V1")}  # RA republished, RC deleted
    assert cache.revalidate(lambda ids: {i: state[i] for i in ids if i in state}) == 2
    assert cache.get(("", "/b", "clean", "")) is not None and len(cache) == 1


def test_cache_is_bounded() -> None:
    cache = ResponseCache(max_entries=2)
    for i in range(3):
        cache.put(("", f"/{i}", "clean", ""), b"x", f"R{i}", f"/{i}", "V", cache.generation)
    assert len(cache) == 2 and cache.get(("", "/0", "clean", "")) is None


def test_rate_limiter_window() -> None:
    now = [0.0]
    limiter = RateLimiter(3, 60.0, clock=lambda: now[0])
    assert [limiter.hit("ip") for _ in range(3)] == [None, None, None]
    retry = limiter.hit("ip")
    assert retry is not None and 59 < retry <= 60
    assert limiter.hit("other") is None
    now[0] = 61.0
    assert limiter.hit("ip") is None


def test_cors() -> None:
    cors = Cors(CorsOptions(origins=("https://app.example",), credentials=True))
    assert dict(cors.headers("https://app.example"))["Access-Control-Allow-Origin"] == (
        "https://app.example"
    )
    assert cors.headers("https://evil.example") == []
    pre = cors.preflight("https://app.example", "PATCH", "content-type, authorization")
    assert pre is not None and dict(pre)["Access-Control-Allow-Credentials"] == "true"
    assert cors.preflight("https://app.example", "PATCH", "X-Secret") is None
    assert cors.preflight("https://app.example", "TRACE", "") is None
    anyone = Cors(CorsOptions(origins=("*",)))
    assert dict(anyone.headers("https://x.example"))["Access-Control-Allow-Origin"] == "*"
    assert Cors(CorsOptions()).headers("https://x.example") == []


def test_metrics_text() -> None:
    metrics = Metrics()
    metrics.observe("/api/v1/content/{slug:path}", "GET", 200, 0.002)
    metrics.observe("/api/v1/content/{slug:path}", "GET", 200, 0.2)
    metrics.cache(True)
    metrics.extra.append(lambda: [("modulacms_plugin_calls_total", "counter", {"plugin": "a"}, 3)])
    text = metrics.render()
    labels = 'route="/api/v1/content/{slug:path}",method="GET",status="200"'
    assert f"modulacms_http_requests_total{{{labels}}} 2" in text
    assert 'le="0.0025"} 1' in text and 'le="+Inf"} 2' in text
    assert "modulacms_delivery_cache_hits_total 1" in text
    assert 'modulacms_plugin_calls_total{plugin="a"} 3' in text


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (NotFound("route", "/x"), 404),
        (ValidationFailed("bad", [FieldError("title", "required")]), 422),
        (BadRequest("bad"), 400),
        (Conflict("stale"), 409),
        (Unauthorized("who"), 401),
        (Forbidden("no"), 403),
        (RateLimited("slow", retry_after=7), 429),
        (StoreError("disk"), 500),
    ],
)
def test_error_mapping(error: Exception, status: int) -> None:
    response = error_response(error)
    assert response.status == status
    assert b'"error":{"code"' in response.body


def test_error_details_and_headers() -> None:
    response = error_response(ValidationFailed("bad", [FieldError("title", "required")]))
    assert b'"fields":[{"field":"title","message":"required"}]' in response.body
    assert ("Retry-After", "7") in error_response(RateLimited("x", retry_after=7)).headers
    assert dict(error_response(Unauthorized("x")).headers)["WWW-Authenticate"].startswith("Bearer")
    bug = error_response(KeyError("internal detail"))
    assert bug.status == 500 and b"internal detail" not in bug.body
    assert status_of(BadRequest("x")) == 400
