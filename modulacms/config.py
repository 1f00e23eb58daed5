"""Settings: one frozen dataclass, resolved from defaults, the TOML file, env and flags.

Every setting lives in a TOML section and has a default and a help text. The attribute
name, the TOML key and the environment variable are derived from each other::

    [server]          ->  Settings.server_port  <-  MODULACMS_SERVER_PORT=9000
    port = 8080

Resolution order (later wins): the defaults below, ``modulacms.toml`` in the project
directory, ``MODULACMS_<SECTION>_<KEY>`` environment variables, then command-line flags
(``overrides``). An unknown or mistyped key is a ``ConfigError`` that names the file (or
variable) and the key, with a suggestion when the key looks like a typo.

Paths in settings are relative to the project directory (``Settings.root``); use the
resolved properties (``database_file``, ``plugins_dir`` ...) rather than the raw strings.
"""

from __future__ import annotations

import difflib
import json
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from modulacms.errors import ConfigError

CONFIG_FILE = "modulacms.toml"
ENV_PREFIX = "MODULACMS_"

SECTIONS: dict[str, str] = {
    "server": "The HTTP server started by `modulacms serve`.",
    "delivery": "Public content delivery (/api/v1/content, /api/v1/query).",
    "content": "Content editing, versions and the trash.",
    "auth": "Sign-in sessions, API tokens and passwords.",
    "plugins": "Sandboxed Lua plugins (see docs on the plugin API).",
    "database": "The SQLite database file.",
    "media": "Uploaded files.",
    "backup": "Backups made by `modulacms backup create`.",
    "logging": "Diagnostics.",
}

_LEVELS = ("debug", "info", "warning", "error")


@dataclass(frozen=True, slots=True)
class Setting:
    """The description of one setting: where it lives, its default and what it means."""

    section: str
    key: str
    default: Any
    help: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] | None = None

    @property
    def name(self) -> str:
        """The attribute of ``Settings`` holding this setting."""
        return f"{self.section}_{self.key}"

    @property
    def env(self) -> str:
        """The environment variable that overrides the TOML file."""
        return ENV_PREFIX + self.name.upper()

    @property
    def kind(self) -> str:
        """One of ``str``, ``bool``, ``int``, ``float``, ``list`` (of strings)."""
        if isinstance(self.default, bool):
            return "bool"
        if isinstance(self.default, tuple):
            return "list"
        return type(self.default).__name__


def _setting(section: str, key: str, default: Any, help: str, **limits: Any) -> Any:
    """A dataclass field carrying its ``Setting`` description as metadata."""
    meta = Setting(section, key, default, help, **limits)
    return field(default=default, metadata={"setting": meta})


@dataclass(frozen=True, slots=True)
class Settings:
    """Every setting of a project, resolved. Build with :func:`load_settings`."""

    # [server]
    server_host: str = _setting(
        "server",
        "host",
        "127.0.0.1",
        "Address to bind. Use 0.0.0.0 to listen on every interface (put a TLS proxy in front).",
    )
    server_port: int = _setting(
        "server", "port", 8080, "TCP port to listen on (0 picks a free port).", maximum=65535
    )
    server_workers: int = _setting(
        "server",
        "workers",
        1,
        "Processes sharing the port (SO_REUSEPORT); each runs its own threads.",
        minimum=1,
        maximum=64,
    )
    server_trust_proxy_headers: bool = _setting(
        "server",
        "trust_proxy_headers",
        False,
        "Take the client address from X-Forwarded-For (only behind a proxy you control).",
    )
    server_shutdown_grace: float = _setting(
        "server",
        "shutdown_grace",
        20.0,
        "Seconds a stopping server waits for requests in flight to finish.",
        minimum=0,
    )
    server_access_log: bool = _setting(
        "server", "access_log", True, "Log one line per request (method, path, status, time)."
    )
    server_cors_origins: tuple[str, ...] = _setting(
        "server",
        "cors_origins",
        (),
        'Origins allowed to call the API from a browser, e.g. ["https://example.com"]; '
        '["*"] allows any origin; empty sends no CORS headers.',
    )
    server_max_body_bytes: int = _setting(
        "server",
        "max_body_bytes",
        1_048_576,
        "Largest request body accepted (413 above it).",
        minimum=1024,
    )
    server_max_json_depth: int = _setting(
        "server",
        "max_json_depth",
        32,
        "Deepest JSON nesting accepted in a request body.",
        minimum=2,
    )
    server_keepalive_timeout: float = _setting(
        "server",
        "keepalive_timeout",
        30.0,
        "Seconds an idle keep-alive connection is kept open.",
        minimum=1,
    )
    server_login_attempts_per_minute: int = _setting(
        "server",
        "login_attempts_per_minute",
        10,
        "Sign-in attempts allowed per client address per minute (429 above it).",
        minimum=1,
    )
    # [delivery]
    delivery_cache_control: str = _setting(
        "delivery",
        "cache_control",
        "public, max-age=0, s-maxage=60, must-revalidate",
        "Cache-Control header of published content responses.",
    )
    delivery_cache_max_entries: int = _setting(
        "delivery",
        "cache_max_entries",
        10_000,
        "Rendered responses kept in memory per server process (0 disables the cache).",
    )
    delivery_change_poll_interval: float = _setting(
        "delivery",
        "change_poll_interval",
        0.25,
        "Seconds between checks for edits made by other processes (TUI, CLI).",
        minimum=0.05,
        maximum=1.0,
    )
    # [content]
    content_versions_kept: int = _setting(
        "content",
        "versions_kept",
        50,
        "Published versions kept per route; older ones are deleted when a route is published.",
        minimum=1,
    )
    content_scheduler_interval: float = _setting(
        "content",
        "scheduler_interval",
        10.0,
        "Seconds between checks for scheduled content that is due (while a server runs).",
        minimum=1,
    )
    # [auth]
    auth_session_ttl: int = _setting(
        "auth",
        "session_ttl",
        604_800,
        "Seconds a sign-in session stays valid (from sign-in, not from last use).",
        minimum=60,
    )
    auth_secure_cookies: bool = _setting(
        "auth",
        "secure_cookies",
        False,
        "Mark the session cookie Secure (turn on when the site is served over HTTPS).",
    )
    # [plugins]
    plugins_enabled: bool = _setting(
        "plugins",
        "enabled",
        True,
        "Load the plugins in the plugin directory. Their HTTP routes and hooks still need "
        "approval (`modulacms plugin approve`) before they run.",
    )
    plugins_directory: str = _setting(
        "plugins", "directory", "plugins", "Where plugins live, one folder each."
    )
    plugins_max_vms: int = _setting(
        "plugins", "max_vms", 4, "Lua VMs per plugin (general plus reserved).", minimum=1
    )
    plugins_hook_reserve_vms: int = _setting(
        "plugins",
        "hook_reserve_vms",
        1,
        "VMs per plugin kept for hooks so that busy HTTP routes cannot starve them.",
        minimum=0,
    )
    plugins_max_memory_mb: int = _setting(
        "plugins",
        "max_memory_mb",
        32,
        "Hard memory limit of each Lua VM in MiB; an allocation beyond it fails the call.",
        minimum=1,
    )
    plugins_timeout: float = _setting(
        "plugins",
        "timeout",
        5.0,
        "Seconds allowed for module scope, on_init, an HTTP request and an after-hook chain.",
        minimum=0.1,
    )
    plugins_max_ops: int = _setting(
        "plugins",
        "max_ops",
        1000,
        "db/core operations per HTTP request, on_init or on_shutdown.",
        minimum=1,
    )
    plugins_instruction_budget: int = _setting(
        "plugins",
        "instruction_budget",
        1_000_000_000,
        "Lua instructions per call (coroutines and finalizers included) before it is stopped; "
        "the wall-clock timeout usually ends a runaway call first.",
        minimum=1000,
    )
    plugins_hook_max_ops: int = _setting(
        "plugins", "hook_max_ops", 100, "db/core operations per after-hook.", minimum=1
    )
    plugins_hook_timeout_ms: int = _setting(
        "plugins",
        "hook_timeout_ms",
        2000,
        "Milliseconds allowed for one before-hook.",
        minimum=1,
    )
    plugins_hook_event_timeout_ms: int = _setting(
        "plugins",
        "hook_event_timeout_ms",
        5000,
        "Milliseconds allowed for all before-hooks of one event.",
        minimum=1,
    )
    plugins_hook_max_consecutive_aborts: int = _setting(
        "plugins",
        "hook_max_consecutive_aborts",
        10,
        "A hook that aborts this many times in a row is switched off until reload.",
        minimum=1,
    )
    plugins_hook_max_concurrent_after: int = _setting(
        "plugins",
        "hook_max_concurrent_after",
        10,
        "After-hooks allowed to run at the same time.",
        minimum=1,
    )
    plugins_max_failures: int = _setting(
        "plugins",
        "max_failures",
        5,
        "Consecutive failed HTTP handler calls that open a plugin's circuit breaker.",
        minimum=1,
    )
    plugins_reset_interval: float = _setting(
        "plugins",
        "reset_interval",
        60.0,
        "Seconds an open circuit breaker waits before letting requests through again.",
        minimum=1,
    )
    plugins_max_request_body: int = _setting(
        "plugins",
        "max_request_body",
        1_048_576,
        "Largest request body a plugin route accepts, in bytes.",
        minimum=1,
    )
    plugins_max_response_body: int = _setting(
        "plugins",
        "max_response_body",
        5_242_880,
        "Largest response body a plugin route may return, in bytes.",
        minimum=1,
    )
    plugins_rate_limit: int = _setting(
        "plugins",
        "rate_limit",
        100,
        "Requests per second per client address to plugin routes (429 above it).",
        minimum=1,
    )
    plugins_max_routes: int = _setting(
        "plugins", "max_routes", 50, "HTTP routes one plugin may register.", minimum=1
    )
    plugins_hot_reload: bool = _setting(
        "plugins",
        "hot_reload",
        False,
        "Reload a plugin when its files (lib/ included) change while a server runs.",
    )
    plugins_sync_interval: float = _setting(
        "plugins",
        "sync_interval",
        1.0,
        "Seconds between checks of approvals and enable/disable made by other processes "
        "(0 turns the check off).",
    )
    plugins_request_timeout: float = _setting(
        "plugins",
        "request_timeout",
        10.0,
        "Seconds an outbound request (request.send) may take.",
        minimum=0.1,
    )
    plugins_request_max_body: int = _setting(
        "plugins",
        "request_max_body",
        1_048_576,
        "Largest outbound request body, in bytes.",
        minimum=1,
    )
    plugins_request_max_response: int = _setting(
        "plugins",
        "request_max_response",
        1_048_576,
        "Largest outbound response body read, in bytes.",
        minimum=1,
    )
    plugins_request_rate_limit: int = _setting(
        "plugins",
        "request_rate_limit",
        60,
        "Outbound requests per minute per plugin and domain.",
        minimum=1,
    )
    plugins_request_global_rate: int = _setting(
        "plugins",
        "request_global_rate",
        600,
        "Outbound requests per minute across all plugins (0: unlimited).",
    )
    plugins_request_cb_failures: int = _setting(
        "plugins",
        "request_cb_failures",
        5,
        "Consecutive failures to one domain that open its outbound circuit breaker.",
        minimum=1,
    )
    plugins_request_cb_reset: float = _setting(
        "plugins",
        "request_cb_reset",
        60.0,
        "Seconds an open outbound circuit breaker waits before trying the domain again.",
        minimum=1,
    )
    plugins_request_allow_local: bool = _setting(
        "plugins",
        "request_allow_local",
        False,
        "Allow outbound requests to loopback and private addresses (for development only).",
    )
    # [database]
    database_path: str = _setting(
        "database", "path", "modulacms.db", "The SQLite database file of the project."
    )
    # [media]
    media_directory: str = _setting(
        "media", "directory", "media", "Where uploaded files are stored."
    )
    # [backup]
    backup_directory: str = _setting(
        "backup", "directory", "backups", "Where `modulacms backup create` writes its copies."
    )
    backup_keep: int = _setting(
        "backup",
        "keep",
        0,
        "Newest backups kept when a new one is made; older ones are deleted (0 keeps all).",
    )
    # [logging]
    logging_level: str = _setting(
        "logging",
        "level",
        "info",
        "Least severe message logged by `serve` and the TUI (the CLI logs warnings only "
        "unless --debug).",
        choices=_LEVELS,
    )
    logging_file: str = _setting(
        "logging", "file", "modulacms.log", "Log file of the TUI (which never prints)."
    )

    # Not a setting: the project directory that relative paths are resolved against.
    root: Path = field(default=Path("."), compare=True)

    # -- resolved paths ------------------------------------------------------------------

    def path(self, value: str) -> Path:
        """``value`` resolved against the project directory (absolute paths kept)."""
        return (self.root / value).resolve()

    @property
    def config_file(self) -> Path:
        return self.root.resolve() / CONFIG_FILE

    @property
    def database_file(self) -> Path:
        return self.path(self.database_path)

    @property
    def plugins_dir(self) -> Path:
        return self.path(self.plugins_directory)

    @property
    def media_dir(self) -> Path:
        return self.path(self.media_directory)

    @property
    def backups_dir(self) -> Path:
        return self.path(self.backup_directory)

    @property
    def log_file(self) -> Path:
        return self.path(self.logging_file)

    def as_dict(self) -> dict[str, dict[str, Any]]:
        """The settings by section, JSON-able (lists for arrays)."""
        out: dict[str, dict[str, Any]] = {section: {} for section in SECTIONS}
        for spec in SETTINGS:
            value = getattr(self, spec.name)
            out[spec.section][spec.key] = list(value) if isinstance(value, tuple) else value
        return out


SETTINGS: tuple[Setting, ...] = tuple(
    f.metadata["setting"] for f in fields(Settings) if "setting" in f.metadata
)
_BY_NAME: dict[str, Setting] = {s.name: s for s in SETTINGS}
_BY_SECTION: dict[str, dict[str, Setting]] = {
    section: {s.key: s for s in SETTINGS if s.section == section} for section in SECTIONS
}


def setting(name: str) -> Setting:
    """The description of the setting with attribute ``name`` (``server_port``)."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise ConfigError(f"unknown setting {name}{_suggest(name, _BY_NAME)}") from None


# -- parsing ---------------------------------------------------------------------------


def _suggest(word: str, options: Mapping[str, object]) -> str:
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""


def _kind_label(spec: Setting) -> str:
    return {
        "str": "a string",
        "bool": "true or false",
        "int": "a whole number",
        "float": "a number",
        "list": "a list of strings",
    }[spec.kind]


def _coerce(spec: Setting, value: Any) -> Any:
    """``value`` as the setting's type, or ``ValueError`` with the reason."""
    kind = spec.kind
    if kind == "bool":
        ok = isinstance(value, bool)
    elif kind == "int":
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif kind == "float":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif kind == "list":
        ok = isinstance(value, list | tuple) and all(isinstance(v, str) for v in value)
        value = tuple(value) if ok else value
    else:
        ok = isinstance(value, str)
    if not ok:
        raise ValueError(f"expected {_kind_label(spec)}, got {value!r}")
    if spec.minimum is not None and value < spec.minimum:
        raise ValueError(f"must be at least {spec.minimum:g}, got {value!r}")
    if spec.maximum is not None and value > spec.maximum:
        raise ValueError(f"must be at most {spec.maximum:g}, got {value!r}")
    if spec.choices is not None and value not in spec.choices:
        raise ValueError(f"must be one of {', '.join(spec.choices)}, got {value!r}")
    return value


def _parse_env(spec: Setting, text: str) -> Any:
    """Environment variables are text: turn them into the setting's type first."""
    kind = spec.kind
    if kind == "bool":
        lowered = text.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"expected true or false, got {text!r}")
    if kind == "int":
        try:
            return int(text.strip())
        except ValueError:
            raise ValueError(f"expected a whole number, got {text!r}") from None
    if kind == "float":
        try:
            return float(text.strip())
        except ValueError:
            raise ValueError(f"expected a number, got {text!r}") from None
    if kind == "list":
        return [part.strip() for part in text.split(",") if part.strip()]
    return text


def read_toml(path: Path) -> dict[str, Any]:
    """The settings found in a TOML file, by attribute name, checked and typed.

    Raises ``ConfigError`` naming the file (and the key) for unreadable or invalid TOML,
    an unknown section or key, or a value of the wrong type.
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the settings file ({exc.strerror})") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: the settings file is not UTF-8 text") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from exc
    found: dict[str, Any] = {}
    for section, table in data.items():
        if section not in _BY_SECTION:
            raise ConfigError(f"{path}: unknown section [{section}]{_suggest(section, SECTIONS)}")
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: {section} must be a [{section}] table")
        known = _BY_SECTION[section]
        for key, value in table.items():
            spec = known.get(key)
            if spec is None:
                raise ConfigError(
                    f"{path}: unknown setting {key} in [{section}]{_suggest(key, known)}"
                )
            try:
                found[spec.name] = _coerce(spec, value)
            except ValueError as exc:
                raise ConfigError(f"{path}: [{section}] {key}: {exc}") from None
    return found


def read_env(env: Mapping[str, str]) -> dict[str, Any]:
    """Settings given as ``MODULACMS_<SECTION>_<KEY>`` variables, checked and typed.

    Variables outside the setting sections (``MODULACMS_PROJECT``) are left alone; an
    unknown key inside a section is a ``ConfigError`` naming the variable.
    """
    by_env = {s.env: s for s in SETTINGS}
    prefixes = tuple(f"{ENV_PREFIX}{section.upper()}_" for section in SECTIONS)
    found: dict[str, Any] = {}
    for variable, text in env.items():
        if not variable.startswith(prefixes):
            continue
        spec = by_env.get(variable)
        if spec is None:
            raise ConfigError(
                f"environment variable {variable}: unknown setting{_suggest(variable, by_env)}"
            )
        try:
            found[spec.name] = _coerce(spec, _parse_env(spec, text))
        except ValueError as exc:
            raise ConfigError(f"environment variable {variable}: {exc}") from None
    return found


def check_overrides(overrides: Mapping[str, Any], source: str = "command line") -> dict[str, Any]:
    """Typed values given by flags, keyed by attribute name; ``None`` values are skipped."""
    found: dict[str, Any] = {}
    for name, value in overrides.items():
        if value is None:
            continue
        spec = setting(name)
        try:
            found[name] = _coerce(spec, value)
        except ValueError as exc:
            raise ConfigError(f"{source}: {spec.section}.{spec.key}: {exc}") from None
    return found


def load_settings(
    root: Path,
    *,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Resolve the settings of the project at ``root``.

    Reads ``root/modulacms.toml`` when it exists, then ``env`` (``os.environ`` by
    default), then ``overrides`` (attribute name -> value; ``None`` means "not given").
    Raises ``ConfigError`` for an unknown or invalid setting anywhere.
    """
    values: dict[str, Any] = {}
    config = root / CONFIG_FILE
    if config.is_file():
        values.update(read_toml(config))
    values.update(read_env(os.environ if env is None else env))
    values.update(check_overrides(overrides or {}))
    return Settings(**values, root=root.resolve())


def with_overrides(settings: Settings, overrides: Mapping[str, Any]) -> Settings:
    """A copy of ``settings`` with flag values applied (checked like any other source)."""
    return replace(settings, **check_overrides(overrides))


# -- rendering -------------------------------------------------------------------------


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    # JSON string escapes are a subset of TOML basic-string escapes
    return json.dumps(value, ensure_ascii=False)


def _comment(text: str, width: int = 88) -> list[str]:
    lines: list[str] = []
    current = "#"
    for word in text.split():
        if len(current) + 1 + len(word) > width and current != "#":
            lines.append(current)
            current = "#"
        current += " " + word
    lines.append(current)
    return lines


def render_default_toml() -> str:
    """A ``modulacms.toml`` with every setting at its default, each with its help text."""
    out = [
        "# ModulaCMS project settings.",
        "# Every setting is listed with its default. Environment variables",
        "# MODULACMS_<SECTION>_<KEY> override this file, and command-line flags override both.",
    ]
    for section, about in SECTIONS.items():
        out += ["", *_comment(about), f"[{section}]"]
        for spec in _BY_SECTION[section].values():
            help_text = spec.help
            if spec.choices:
                help_text += f" One of: {', '.join(spec.choices)}."
            out += _comment(help_text)
            out.append(f"{spec.key} = {_toml_value(spec.default)}")
    return "\n".join(out) + "\n"
