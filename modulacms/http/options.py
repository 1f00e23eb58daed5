"""Server tunables, as one explicit dataclass (``config`` maps Settings onto it)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CorsOptions:
    """Cross-origin rules. No origins means CORS headers are never sent.

    ``origins`` holds exact origins (``https://app.example``) or ``"*"`` for any origin;
    with ``credentials`` the matching origin is echoed back instead of ``*``.
    """

    origins: tuple[str, ...] = ()
    methods: tuple[str, ...] = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
    headers: tuple[str, ...] = ("Authorization", "Content-Type", "If-None-Match")
    expose_headers: tuple[str, ...] = ("ETag",)
    credentials: bool = False
    max_age: int = 600

    @property
    def enabled(self) -> bool:
        return bool(self.origins)


@dataclass(frozen=True, slots=True)
class ServerOptions:
    """Everything ``modulacms serve`` can tune; every field has a safe default.

    ``access_log`` is ``"-"`` for stderr, a file path, or ``None`` to switch it off.
    ``change_poll_interval`` bounds how late edits made by another process show up.
    """

    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 1
    max_body_bytes: int = 1 << 20
    max_json_depth: int = 32
    max_header_bytes: int = 16 << 10
    keepalive_timeout: float = 30.0
    shutdown_grace: float = 20.0
    access_log: str | None = "-"
    cache_control: str = "public, max-age=0, s-maxage=60, must-revalidate"
    cache_max_entries: int = 10_000
    change_poll_interval: float = 0.25
    cors: CorsOptions = CorsOptions()
    login_attempts_per_minute: int = 10
    session_cookie: str = "modulacms_session"
    session_cookie_secure: bool = False
    scheduler_interval: float = 10.0
    scheduler_enabled: bool = True
    trust_proxy_headers: bool = False
