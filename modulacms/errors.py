"""The exception tree of ModulaCMS.

Every error a user can cause is a ``ModulaError``. Each front end translates these in
exactly one place (``http/responses.py``, the CLI's command boundary, the TUI's notify
helper), so a user's mistake never surfaces as a traceback::

    ModulaError                      code            HTTP
    ├── NotFound                     not_found       404
    ├── ValidationFailed             validation      422  (collects FieldError items)
    ├── BadRequest                   bad_request     400
    ├── Conflict                     conflict        409  (stale revision, duplicate)
    ├── Unauthorized                 unauthorized    401
    ├── Forbidden                    forbidden       403
    ├── RateLimited                  rate_limited    429
    ├── QueryRejected                query_rejected  400  (unsafe identifier, operator)
    ├── ConfigError                  config          ---  (names the file and key)
    ├── ProjectError                 project         ---  (no project, already exists)
    ├── StoreError                   store           500  (schema too new, corrupt file)
    └── PluginError                  plugin          500
        ├── PluginLoadError          plugin_load
        ├── PluginTimeout            plugin_timeout
        └── SandboxViolation         sandbox
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class ModulaError(Exception):
    """Root of every error ModulaCMS raises on purpose.

    ``code`` is a stable machine-readable string; ``details`` is JSON-serialisable
    extra information for API clients.
    """

    code = "error"
    title = "Error"

    def __init__(self, message: str, *, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(ModulaError):
    """A named thing does not exist: ``NotFound("route", "/about")``."""

    code = "not_found"
    title = "Not found"

    def __init__(self, kind: str, ident: object, message: str | None = None) -> None:
        super().__init__(message or f"{kind} {ident!s} not found", details={"kind": kind})
        self.kind = kind
        self.ident = ident


@dataclass(frozen=True, slots=True)
class FieldError:
    """One problem with one input field."""

    field: str
    message: str


@dataclass
class ErrorCollector:
    """Collects field errors so that validation reports every problem at once."""

    errors: list[FieldError] = field(default_factory=list)

    def add(self, name: str, message: str) -> None:
        self.errors.append(FieldError(name, message))

    def raise_if_any(self, message: str = "validation failed") -> None:
        if self.errors:
            raise ValidationFailed(message, self.errors)


class ValidationFailed(ModulaError):
    """Input was understood but is not acceptable; carries every field error."""

    code = "validation"
    title = "Invalid input"

    def __init__(self, message: str, errors: list[FieldError] | None = None) -> None:
        self.errors = list(errors or [])
        summary = message
        if self.errors:
            summary = f"{message}: " + "; ".join(f"{e.field}: {e.message}" for e in self.errors)
        super().__init__(
            summary,
            details={"fields": [{"field": e.field, "message": e.message} for e in self.errors]},
        )


class BadRequest(ModulaError):
    """The request itself is malformed (bad JSON, wrong shape, bad parameter)."""

    code = "bad_request"
    title = "Bad request"


class Conflict(ModulaError):
    """The write lost a race (stale revision) or would duplicate a unique value."""

    code = "conflict"
    title = "Conflict"


class Unauthorized(ModulaError):
    """No valid credentials were presented."""

    code = "unauthorized"
    title = "Not signed in"


class Forbidden(ModulaError):
    """The actor is known but lacks the permission the operation needs."""

    code = "forbidden"
    title = "Not allowed"


class RateLimited(ModulaError):
    """Too many requests; ``retry_after`` is in seconds."""

    code = "rate_limited"
    title = "Slow down"

    def __init__(self, message: str, retry_after: int = 60) -> None:
        super().__init__(message, details={"retry_after": retry_after})
        self.retry_after = retry_after


class QueryRejected(ModulaError):
    """The query builder refused an identifier, operator, value or shape.

    ``raises`` tells the Lua API how the plugin sees it: ``True`` means a raised Lua error,
    ``False`` means ``nil, message`` (see the contract in ``modulacms.db.query``).
    """

    code = "query_rejected"
    title = "Query rejected"

    def __init__(self, message: str, *, raises: bool = False, details: Any = None) -> None:
        super().__init__(message, details=details)
        self.raises = raises


class ConfigError(ModulaError):
    """A setting is unknown or has the wrong type; names the file and the key."""

    code = "config"
    title = "Configuration error"


class ProjectError(ModulaError):
    """No project here, or a project already exists where one is being created."""

    code = "project"
    title = "Project"


class StoreError(ModulaError):
    """The database cannot be used (written by a newer version, corrupt, locked)."""

    code = "store"
    title = "Database error"


class PluginError(ModulaError):
    """A plugin failed; the CMS itself keeps going."""

    code = "plugin"
    title = "Plugin error"


class PluginLoadError(PluginError):
    """A plugin could not be discovered, validated or initialised."""

    code = "plugin_load"


class PluginTimeout(PluginError):
    """A plugin exceeded its instruction budget or wall-clock deadline."""

    code = "plugin_timeout"


class SandboxViolation(PluginError):
    """A plugin tried something the sandbox forbids."""

    code = "sandbox"
