"""Reading typed members out of a JSON request body, collecting every problem at once.

A member of the wrong type is a 422 naming the member, like any other validation
failure; a body that is not a JSON object at all is a 400.
"""

from __future__ import annotations

from typing import Any

from modulacms.errors import ErrorCollector
from modulacms.http.request import Request

_MISSING = object()


class Body:
    """``Body(request)`` then ``body.text("slug", required=True)`` ... ``body.done()``."""

    def __init__(self, request: Request) -> None:
        self.data = request.json_object()
        self.errors = ErrorCollector()

    def _get(self, name: str, required: bool) -> Any:
        value = self.data.get(name, _MISSING)
        if value is _MISSING or (value is None and required):
            if required:
                self.errors.add(name, "is required")
            return _MISSING
        return value

    def text(self, name: str, *, required: bool = False, default: str | None = None) -> Any:
        value = self._get(name, required)
        if value is _MISSING or value is None:
            return default
        if not isinstance(value, str):
            self.errors.add(name, "must be a string")
            return default
        return value

    def integer(self, name: str, *, required: bool = False, default: int | None = None) -> Any:
        value = self._get(name, required)
        if value is _MISSING or value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            self.errors.add(name, "must be an integer")
            return default
        return value

    def boolean(self, name: str, *, required: bool = False, default: bool | None = None) -> Any:
        value = self._get(name, required)
        if value is _MISSING or value is None:
            return default
        if not isinstance(value, bool):
            self.errors.add(name, "must be true or false")
            return default
        return value

    def mapping(self, name: str, *, required: bool = False) -> Any:
        value = self._get(name, required)
        if value is _MISSING or value is None:
            return None
        if not isinstance(value, dict):
            self.errors.add(name, "must be an object")
            return None
        return value

    def strings(self, name: str, *, required: bool = False) -> Any:
        value = self._get(name, required)
        if value is _MISSING or value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.errors.add(name, "must be a list of strings")
            return None
        return value

    def done(self, message: str = "invalid request body") -> None:
        """Raise ``ValidationFailed`` (422) listing every problem found so far."""
        self.errors.raise_if_any(message)
