"""Request handlers, one module per area; each exposes ``register(router)``.

A handler parses its request, calls one service method and returns a ``Response``; it
never touches SQL and never formats an error itself (it raises, ``responses.py`` renders).
"""

from __future__ import annotations

from modulacms.http.handlers import content, health
from modulacms.http.routes import Router


def register_all(router: Router) -> None:
    """Fill ``router`` with every endpoint of the API."""
    health.register(router)
    content.register(router)
