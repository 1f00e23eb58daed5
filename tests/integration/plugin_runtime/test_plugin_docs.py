"""The plugin guide names every Lua API function and every hook event."""

from __future__ import annotations

from pathlib import Path

from plugin_helpers import make_vm

from modulacms.core.events import HookEvent
from modulacms.plugin_runtime.modules import standard_modules

GUIDE = Path(__file__).resolve().parents[3] / "docs" / "plugins.md"


def test_every_api_function_and_event_is_documented() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    vm = make_vm("reload_plugin")
    missing = []
    for module, installer in standard_modules():
        real = installer(vm)
        for key in real.keys():
            name = f"{module}.{key.decode()}"
            if name not in text:
                missing.append(name)
    for event in HookEvent:
        if event.value not in text:
            missing.append(event.value)
    for function in (
        "assert",
        "assert_eq",
        "assert_neq",
        "assert_nil",
        "assert_not_nil",
        "assert_error",
        "assert_contains",
        "setup",
        "teardown",
        "request",
        "fire_hook",
        "mock_request",
    ):
        if f"test.{function}" not in text:
            missing.append(f"test.{function}")
    assert missing == []
