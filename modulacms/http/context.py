"""What every handler receives besides the request: services and server-wide state."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from modulacms.http.cache import ResponseCache
from modulacms.http.metrics import Metrics
from modulacms.http.options import ServerOptions
from modulacms.http.ratelimit import RateLimiter


@dataclass(slots=True)
class Context:
    """Shared by all request threads of one server process; read-mostly.

    ``services`` is the ``Services`` registry built by the composition root.
    """

    options: ServerOptions
    services: Any
    metrics: Metrics = field(default_factory=Metrics)
    cache: ResponseCache = field(default_factory=ResponseCache)
    login_limiter: RateLimiter = field(default_factory=lambda: RateLimiter(10, 60.0))
    worker: int = 0
    started: float = field(default_factory=time.monotonic)
    router: Any = None
    openapi: bytes | None = None
