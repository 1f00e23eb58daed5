"""Manifest validation (spec §1.3) and dependency ordering (spec §1.2 step 5)."""

from __future__ import annotations

from pathlib import Path

import pytest

from modulacms.errors import PluginLoadError
from modulacms.plugin_runtime.loader import PluginSource, dependency_order
from modulacms.plugin_runtime.manifest import Manifest, ManifestError, check_name, parse_manifest

BASE = {"name": "shop", "version": "1.0.0", "description": "A shop"}


def parse(**changes: object) -> Manifest:
    return parse_manifest({**BASE, **changes}, path="shop/init.lua")


def test_minimal_manifest() -> None:
    m = parse()
    assert (m.name, m.version, m.description, m.author, m.dependencies) == (
        "shop",
        "1.0.0",
        "A shop",
        "",
        (),
    )


def test_missing_global_is_not_prefixed() -> None:
    with pytest.raises(ManifestError) as info:
        parse_manifest(None, path="x/init.lua")
    assert info.value.reason == "missing required plugin_info global"
    assert info.value.field == "plugin_info"
    assert str(info.value).startswith("x/init.lua: ")


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "invalid manifest: name is required"),
        ("a" * 33, 'invalid manifest: name "' + "a" * 33 + '" exceeds 32 characters'),
        (
            "Has Spaces",
            'invalid manifest: name "Has Spaces" contains invalid character "H" '
            "(must be [a-z0-9_])",
        ),
        ("my-plugin", 'contains invalid character "-"'),
        ("shop_", 'invalid manifest: name "shop_" has trailing underscore (collision prevention)'),
    ],
)
def test_name_rules(name: str, message: str) -> None:
    with pytest.raises(ManifestError) as info:
        parse(name=name)
    assert message in info.value.reason
    assert info.value.field == "name"


def test_unicode_lower_case_letters_pass_like_go() -> None:
    assert check_name("café_2") is None
    assert check_name("é" * 16) is None  # 32 bytes
    assert check_name("é" * 17) is not None  # 34 bytes


@pytest.mark.parametrize("field", ["version", "description"])
def test_required_strings(field: str) -> None:
    with pytest.raises(ManifestError, match=f"invalid manifest: {field} is required"):
        parse(**{field: ""})
    with pytest.raises(ManifestError, match=f"{field} is required"):
        parse(**{field: 42})  # non-strings read as empty


def test_optional_fields() -> None:
    m = parse(
        author="Ann",
        license="MIT",
        min_cms_version="2",
        dependencies=["base", 3, "util"],
        capabilities=[{"table": "content_data", "op": "create", "handler": "h", "priority": 5}],
        core_access={"content_data": ["read", "write", 1], "media": ["read"]},
        screens=[{"name": "main", "label": "Main"}, {"label": "no name"}],
        interfaces=[{"name": "color", "label": "Color"}],
        ui={"tag": "mcms-shop", "bundle": "ui.js", "has_admin": True},
    )
    assert m.dependencies == ("base", "util")
    assert m.capabilities[0].priority == 5
    assert m.core_access_map == {"content_data": ["read", "write"], "media": ["read"]}
    assert [s.name for s in m.screens] == ["main"]
    assert m.interfaces[0].mode == "inline"
    assert m.ui is not None and m.ui.has_admin


@pytest.mark.parametrize("tag", ["mcms-other", "font-face", "MCMS-SHOP"])
def test_ui_tag_rules(tag: str) -> None:
    with pytest.raises(ManifestError) as info:
        parse(ui={"tag": tag})
    assert info.value.field == "ui.tag"


def test_ui_without_tag_is_ignored() -> None:
    assert parse(ui={"bundle": "x.js"}).ui is None


def _source(name: str, *deps: str) -> PluginSource:
    manifest = Manifest(name=name, version="1", description="d", dependencies=deps)
    return PluginSource(Path(name), Path(name), manifest)


def test_dependency_order_is_topological_with_alphabetical_ties() -> None:
    plugins = [_source("c", "a"), _source("b"), _source("a"), _source("d", "b", "c")]
    assert [p.name for p in dependency_order(plugins)] == ["a", "b", "c", "d"]


def test_missing_dependency_fails_as_a_whole() -> None:
    with pytest.raises(
        PluginLoadError, match='plugin "a" depends on "zzz" which was not discovered'
    ):
        dependency_order([_source("a", "zzz"), _source("b")])


def test_cycles_are_reported() -> None:
    with pytest.raises(PluginLoadError, match="circular dependency detected among plugins: a, b"):
        dependency_order([_source("a", "b"), _source("b", "a"), _source("c")])
