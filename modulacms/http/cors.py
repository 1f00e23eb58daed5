"""Cross-origin resource sharing: response headers and preflight answers."""

from __future__ import annotations

from modulacms.http.options import CorsOptions


class Cors:
    """Applies :class:`CorsOptions`; does nothing when no origin is configured."""

    def __init__(self, options: CorsOptions) -> None:
        self.options = options
        self._any = "*" in options.origins
        self._origins = frozenset(o.rstrip("/") for o in options.origins if o != "*")
        self._methods = ", ".join(options.methods)
        self._headers = ", ".join(options.headers)
        self._expose = ", ".join(options.expose_headers)

    def allows(self, origin: str) -> bool:
        return bool(origin) and (self._any or origin.rstrip("/") in self._origins)

    def headers(self, origin: str) -> list[tuple[str, str]]:
        """Headers for an actual (non-preflight) response to ``origin``."""
        if not self.options.enabled or not self.allows(origin):
            return []
        out = [("Access-Control-Allow-Origin", self._allow_origin(origin))]
        if self.options.credentials:
            out.append(("Access-Control-Allow-Credentials", "true"))
        if self._expose:
            out.append(("Access-Control-Expose-Headers", self._expose))
        if out[0][1] != "*":
            out.append(("Vary", "Origin"))
        return out

    def preflight(self, origin: str, method: str, headers: str) -> list[tuple[str, str]] | None:
        """Headers answering a preflight, or ``None`` when it must be refused."""
        if not self.options.enabled or not self.allows(origin):
            return None
        if method.upper() not in self.options.methods:
            return None
        wanted = {h.strip().lower() for h in headers.split(",") if h.strip()}
        allowed = {h.lower() for h in self.options.headers}
        if not wanted <= allowed:
            return None
        out = [
            ("Access-Control-Allow-Origin", self._allow_origin(origin)),
            ("Access-Control-Allow-Methods", self._methods),
            ("Access-Control-Allow-Headers", self._headers),
            ("Access-Control-Max-Age", str(self.options.max_age)),
            ("Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"),
        ]
        if self.options.credentials:
            out.append(("Access-Control-Allow-Credentials", "true"))
        return out

    def _allow_origin(self, origin: str) -> str:
        # credentials forbid the wildcard, so the matching origin is echoed instead
        if self._any and not self.options.credentials:
            return "*"
        return origin
