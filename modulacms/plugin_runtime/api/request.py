"""The ``request`` module: outbound HTTP (spec §8).

``request.register(domain, opts?)`` declares a domain at module scope (approval happens in
the database). ``request.send(method, url, opts?)`` and ``request.get/post/put/delete/
patch(url, opts?)`` raise for programming errors (wrong phase, inside a before-hook, bad
method or URL, both ``body`` and ``json``) and otherwise return a table: the response
``{status, body, headers, json?}`` or ``{error = message}`` (see ``outbound.py``).
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from modulacms.plugin_runtime import gojson
from modulacms.plugin_runtime.api.args import optional_table, string_arg
from modulacms.plugin_runtime.convert import LuaValue, from_lua, lua_type
from modulacms.plugin_runtime.outbound import METHODS, OutboundRequest
from modulacms.plugin_runtime.sandbox import HostRaise

if TYPE_CHECKING:
    from modulacms.plugin_runtime.vm import PluginVM

MAX_DOMAINS = 50
_DOMAIN = re.compile(r"[A-Za-z0-9.\-]+")


def check_domain(domain: str) -> str:
    problem = None
    if not domain:
        problem = "domain cannot be empty"
    elif len(domain) > 253:
        problem = "domain longer than 253 characters"
    elif "://" in domain or "/" in domain:
        problem = "domain must be a host name, not a URL"
    elif ":" in domain:
        problem = "domain must not contain a port"
    elif "*" in domain:
        problem = "wildcard domains are not allowed"
    elif not _DOMAIN.fullmatch(domain):
        problem = "domain may only contain letters, digits, '.' and '-'"
    elif "." not in domain:
        problem = "domain must contain a dot"
    if problem:
        raise HostRaise(f'invalid domain "{domain}": {problem}')
    return domain.lower()


def _headers(value: LuaValue) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {k: v for k, v in value.items() if isinstance(v, str) and "\n" not in k + v}


def install(vm: PluginVM) -> Any:
    sandbox = vm.sandbox
    options = vm.ctx.options

    def register(domain: Any = None, opts: Any = None, *_: Any) -> None:
        vm.require_phase(
            "register",
            "request.register() must be called at module scope, not inside on_init() or at runtime",
        )
        name = check_domain(string_arg(domain, 1, "register"))
        domains = vm.registered.domains
        if name in domains:
            return None
        if len(domains) >= MAX_DOMAINS:
            raise HostRaise(f"plugin exceeded maximum domain limit ({MAX_DOMAINS})")
        description = optional_table(opts).get("description")
        domains[name] = description if isinstance(description, str) else ""
        return None

    def check_phase() -> None:
        phase = vm.phase.value
        if phase == "module_scope":
            raise HostRaise("request.send() cannot be called at module scope")
        if phase == "init":
            raise HostRaise("request.send() cannot be called inside on_init()")
        if phase == "shutdown":
            raise HostRaise("request.send() cannot be called inside on_shutdown()")
        if vm.exec.before_hook:
            raise HostRaise(
                "request.send() cannot be called inside a before-hook handler (it would hold "
                "the write transaction open)"
            )

    def send(method: Any = None, url: Any = None, opts: Any = None) -> tuple[Any, ...]:
        check_phase()
        verb = string_arg(method, 1, "send").upper()
        if verb not in METHODS:
            raise HostRaise(f'request.send: invalid method "{verb}"')
        target = string_arg(url, 2, "send")
        try:
            parts = urlsplit(target)
            parts.port  # noqa: B018 - raises for a malformed port
        except ValueError as exc:
            raise HostRaise(f"request.send: invalid URL: {exc}") from None
        if parts.username is not None or parts.password is not None:
            raise HostRaise("request.send: URLs with credentials (user:pass@) are not allowed")
        if not parts.scheme or not parts.hostname:
            raise HostRaise("request.send: URL needs a scheme and a host")
        settings = from_lua(opts) if lua_type(opts) == "table" else {}
        if not isinstance(settings, dict):
            settings = {}
        if settings.get("body") is not None and settings.get("json") is not None:
            raise HostRaise("request.send: give either body or json, not both")
        headers = _headers(settings.get("headers"))
        body: bytes | None = None
        raw = settings.get("body")
        if isinstance(raw, str):
            body = raw.encode("utf-8")
        elif isinstance(raw, bytes):
            body = raw
        elif settings.get("json") is not None:
            try:
                body = gojson.encode(settings["json"]).encode("utf-8")
            except ValueError as exc:
                raise HostRaise(f"request.send: json: {exc}") from None
            if not any(k.lower() == "content-type" for k in headers):
                headers["Content-Type"] = "application/json"
        timeout = options.request_timeout
        wanted = settings.get("timeout")
        if isinstance(wanted, int | float) and not isinstance(wanted, bool):
            timeout = min(timeout, max(1.0, float(wanted)))
        if vm.exec.deadline:
            timeout = max(0.05, min(timeout, vm.exec.deadline - time.monotonic()))
        engine = vm.ctx.services.outbound
        if engine is None:
            return ({"error": "outbound requests are not available in this runtime"},)
        request = OutboundRequest(
            plugin=vm.name,
            method=verb,
            url=target,
            headers=headers,
            body=body,
            timeout=timeout,
            parse_json=settings.get("parse_json") is True,
            request_id=vm.exec.request_id,
        )
        return (engine.send(request),)

    def shorthand(verb: str) -> Any:
        def call(url: Any = None, opts: Any = None, *_: Any) -> tuple[Any, ...]:
            return send(verb.encode(), url, opts)

        return call

    real = sandbox.table()
    real[b"register"] = sandbox.lua_function(register, "request.register")
    real[b"send"] = sandbox.lua_function(send, "request.send")
    for verb in ("GET", "POST", "PUT", "DELETE", "PATCH"):
        real[verb.lower().encode()] = sandbox.lua_function(shorthand(verb), f"request.{verb}")
    return real
