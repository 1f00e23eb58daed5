"""The ``log`` module (spec §9.2) and the plugin's rate-limited logger.

``log.info(msg, ctx?)``, ``log.warn``, ``log.error``, ``log.debug``: ``msg`` must be a
string (numbers are coerced, anything else raises); every key/value of a table ``ctx``
becomes a ``key=value`` field after the fixed ``plugin=<name>``; a non-table ``ctx`` is
ignored. Beyond the original: each line is capped at ``max_bytes`` and the plugin's lines
are rate-limited (token bucket), so a log flood cannot fill the host's disk or memory;
dropped lines are counted and reported once logging resumes. ``print`` output goes here
too (at info level) instead of the server's stdout.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from modulacms.plugin_runtime.api.args import number_text, string_arg
from modulacms.plugin_runtime.convert import LuaValue, from_lua, lua_type

if TYPE_CHECKING:
    from modulacms.plugin_runtime.vm import PluginVM

LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warn": logging.WARNING,
    "error": logging.ERROR,
}


class PluginLogger:
    """Logger ``modulacms.plugins.<name>`` with a size cap and a token bucket."""

    def __init__(self, plugin: str, *, max_bytes: int = 4096, rate: float = 100.0) -> None:
        self.plugin = plugin
        self.logger = logging.getLogger(f"modulacms.plugins.{plugin}")
        self.max_bytes = max_bytes
        self.rate = rate
        self.burst = max(rate * 2, 1.0)
        self._tokens = self.burst
        self._stamp = time.monotonic()
        self._lock = threading.Lock()
        self.dropped = 0
        self.emitted = 0

    def _admit(self) -> tuple[bool, int]:
        with self._lock:
            now = time.monotonic()
            self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            if self._tokens < 1:
                self.dropped += 1
                return False, 0
            self._tokens -= 1
            reported, self.dropped = self.dropped, 0
            self.emitted += 1
            return True, reported

    def emit(self, level: int, message: str, fields: dict[str, str] | None = None) -> None:
        if not self.logger.isEnabledFor(level):
            return
        admitted, dropped = self._admit()
        if not admitted:
            return
        if dropped:
            self.logger.warning(
                "plugin %s: %d log lines dropped (rate limit)", self.plugin, dropped
            )
        parts = [message, f"plugin={self.plugin}"]
        parts += [f"{k}={v}" for k, v in (fields or {}).items()]
        line = " ".join(parts)
        if len(line) > self.max_bytes:
            line = line[: self.max_bytes] + "...[truncated]"
        self.logger.log(level, "%s", line, extra={"plugin": self.plugin})

    def print(self, text: str) -> None:
        self.emit(logging.INFO, f"print: {text}")


def _field(value: LuaValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return format(value, "g") if isinstance(value, float) else str(value)
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if value is None:
        return "nil"
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _fields(ctx: Any) -> dict[str, str]:
    if lua_type(ctx) != "table":
        return {}
    converted = from_lua(ctx)
    if isinstance(converted, list):
        converted = {str(i + 1): v for i, v in enumerate(converted)}
    if not isinstance(converted, dict):
        return {}
    return {str(k): _field(v) for k, v in sorted(converted.items())}


def install(vm: PluginVM) -> Any:
    logger = vm.ctx.logger
    real = vm.sandbox.table()

    def make(name: str, level: int) -> Any:
        def log_call(msg: Any = None, ctx: Any = None, *_: Any) -> None:
            if isinstance(msg, int | float) and not isinstance(msg, bool):
                text = number_text(msg)
            else:
                text = string_arg(msg, 1, name)
            logger.emit(level, text, _fields(ctx))
            return None

        return vm.sandbox.lua_function(log_call, f"log.{name}")

    for name, level in LEVELS.items():
        real[name.encode()] = make(name, level)
    return real
