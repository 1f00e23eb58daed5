"""Discovery, manifest extraction and require() against real plugin directories."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from plugin_helpers import PLUGINS, call, make_vm, values

from modulacms.plugin_runtime.loader import discover, extract_manifest
from modulacms.plugin_runtime.manifest import ManifestError


def write_plugin(root: Path, dirname: str, body: str) -> Path:
    path = root / dirname
    path.mkdir(parents=True)
    (path / "init.lua").write_text(body)
    return path


def manifest_lua(name: str, extra: str = "") -> str:
    return f'plugin_info = {{ name = "{name}", version = "1.0", description = "d" }}\n{extra}'


def test_fixture_manifests() -> None:
    failing = extract_manifest(PLUGINS / "failing_plugin")
    assert (failing.name, failing.has_on_init) == ("failing_plugin", True)
    with pytest.raises(ManifestError, match="invalid character"):
        extract_manifest(PLUGINS / "invalid_bad_name")
    with pytest.raises(ManifestError, match="missing required plugin_info"):
        extract_manifest(PLUGINS / "invalid_no_manifest")


def test_manifest_vm_runs_lib_requires_and_stubs_every_api(tmp_path: Path) -> None:
    path = write_plugin(
        tmp_path,
        "stubs",
        manifest_lua(
            "stubs",
            'local v = require("v")\nhttp.handle("GET", "/x", function() end)\n'
            'db.define_table("t", {})\nlocal nothing = json.encode({})\n'
            "assert(nothing == nil and v.ok)\n"
            "assert(coroutine == nil)\n",
        ),
    )
    (path / "lib").mkdir()
    (path / "lib" / "v.lua").write_text("return { ok = true }")
    assert extract_manifest(path).name == "stubs"


def test_manifest_errors_name_the_file_and_the_field(tmp_path: Path) -> None:
    path = write_plugin(tmp_path, "broken", "plugin_info = {")
    with pytest.raises(ManifestError) as info:
        extract_manifest(path)
    assert info.value.field == "syntax"
    assert "broken/init.lua" in str(info.value)
    path = write_plugin(tmp_path, "raises", manifest_lua("raises", 'error("no")'))
    with pytest.raises(ManifestError, match="executing init.lua: raises/init.lua:2: no"):
        extract_manifest(path)


def test_manifest_extraction_has_a_time_limit(tmp_path: Path) -> None:
    path = write_plugin(tmp_path, "spin", manifest_lua("spin", "while true do end"))
    with pytest.raises(ManifestError, match="context deadline exceeded"):
        extract_manifest(path, timeout=0.2)


def test_manifest_with_metamethod_traps_is_read_raw(tmp_path: Path) -> None:
    body = (
        "plugin_info = setmetatable({ version = '1', description = 'd' }, "
        "{ __index = function() while true do end end })\n"
        "plugin_info.name = 'trap'"
    )
    path = write_plugin(tmp_path, "trap", body)
    # Reading the absent optional fields would run the looping __index: it never does.
    assert extract_manifest(path).author == ""


def test_discovery_rules(tmp_path: Path) -> None:
    root = tmp_path / "plugins"
    write_plugin(root, "alpha", manifest_lua("alpha"))
    write_plugin(root, "beta", manifest_lua("not_beta"))  # name must equal directory
    write_plugin(root, "gamma", "plugin_info = nil")
    (root / "no_init").mkdir()
    (root / "file.lua").write_text("x = 1")
    target = write_plugin(tmp_path / "elsewhere", "delta", manifest_lua("delta"))
    os.symlink(target, root / "delta")  # a symlink to a directory is a candidate
    found = discover(root)
    assert [p.name for p in found.plugins] == ["alpha", "delta"]
    assert [d for d, _ in found.problems] == ["beta", "gamma"]
    assert "must equal its directory name" in found.problems[0][1]
    assert discover(tmp_path / "missing").plugins == []


def test_require_loads_lib_modules_once_per_vm() -> None:
    vm = make_vm("sandbox_test_plugin")
    assert values(call(vm, "greet_world")) == ["hello world"]
    assert values(call(vm, "same_table")) == [True]
    for bad in ("..", "../evil", "lib/helpers", "lib\\helpers", "foo..bar"):
        ok, err = values(call(vm, "try_require", bad))
        assert ok is False and "must be a simple name" in err
    ok, err = values(call(vm, "try_require", "nonexistent"))
    assert ok is False
    assert err == 'module "nonexistent" not found at sandbox_test_plugin/lib/nonexistent.lua'


def test_require_refuses_escapes(plugin_copy) -> None:
    path: Path = plugin_copy("attack_require")
    outside = path.parent / "outside.lua"
    outside.write_text("return 'escaped'")
    os.symlink(outside, path / "lib" / "link.lua")
    os.symlink(path.parent, path / "lib" / "up")
    (path / "lib" / "dir.lua").mkdir()
    vm = make_vm("attack_require", directory=path.parent)
    assert "resolves outside lib/" in values(call(vm, "try", "link"))[0]
    assert "must be a simple name" in values(call(vm, "try", "up/outside"))[0]
    assert "not a regular file" in values(call(vm, "try", "dir"))[0]
    assert "must be a simple name" in values(call(vm, "try", "/etc/passwd"))[0]
    assert values(call(vm, "try", "fine")) == ["loaded"]
    ok, err = values(call(vm, "inner_error"))
    assert ok is False
    assert (
        'error loading module "broken": attack_require/lib/broken.lua:1: module body fails' in err
    )


def test_a_symlinked_lib_directory_cannot_leave_the_plugin(plugin_copy) -> None:
    path: Path = plugin_copy("attack_require")
    shutil.rmtree(path / "lib")
    elsewhere = path.parent / "shared_lib"
    elsewhere.mkdir()
    (elsewhere / "fine.lua").write_text("return {}")
    os.symlink(elsewhere, path / "lib")
    vm = make_vm("attack_require", directory=path.parent)
    assert "resolves outside lib/" in values(call(vm, "try", "fine"))[0]


def test_bytecode_is_refused_by_loadstring_dump_and_require() -> None:
    vm = make_vm("attack_bytecode")
    assert values(call(vm, "attack_loadstring")) == [None, "binary chunks are not allowed"]
    result = call(vm, "attack_dump")
    assert not result.ok and "string.dump is not available" in result.message
    result = call(vm, "attack_require")
    assert not result.ok
    assert 'error loading module "precompiled": binary chunks are not allowed' in result.message
