"""Request handlers, one module per area, each an ``api`` table of documented endpoints.

A handler parses its request, calls one service method and returns a ``Response``; it
never touches SQL and never formats an error itself (it raises, ``responses.py`` renders).
"""

from __future__ import annotations

from modulacms.http.handlers import (
    admin_content,
    admin_people,
    admin_schema,
    admin_system,
    auth,
    content,
    docs,
    health,
    media,
    query,
)
from modulacms.http.routes import Router

AREAS = (
    health,
    docs,
    content,
    query,
    auth,
    admin_content,
    admin_schema,
    admin_people,
    admin_system,
    media,
)


def register_all(router: Router) -> None:
    """Fill ``router`` with every endpoint of the API."""
    for area in AREAS:
        area.api.register(router)
