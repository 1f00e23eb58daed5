"""Settings: defaults, TOML, environment and flags, and the errors for bad keys."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from modulacms.config import (
    CONFIG_FILE,
    SETTINGS,
    Settings,
    load_settings,
    read_env,
    render_default_toml,
    with_overrides,
)
from modulacms.errors import ConfigError


def _write(root: Path, text: str) -> Path:
    path = root / CONFIG_FILE
    path.write_text(text, encoding="utf-8")
    return path


def test_every_setting_has_help_and_a_known_section() -> None:
    names = [s.name for s in SETTINGS]
    assert len(names) == len(set(names))
    for spec in SETTINGS:
        assert spec.help.strip(), spec.name
        assert spec.name == f"{spec.section}_{spec.key}"
        assert spec.env == "MODULACMS_" + spec.name.upper()


def test_defaults_without_a_file(tmp_path: Path) -> None:
    settings = load_settings(tmp_path, env={})
    assert settings.server_host == "127.0.0.1"
    assert settings.server_port == 8080
    assert settings.content_versions_kept == 50
    assert settings.plugins_max_memory_mb == 32
    assert settings.root == tmp_path.resolve()
    assert settings.database_file == tmp_path.resolve() / "modulacms.db"
    assert settings.plugins_dir == tmp_path.resolve() / "plugins"


def test_rendered_default_file_round_trips_to_the_defaults(tmp_path: Path) -> None:
    text = render_default_toml()
    parsed = tomllib.loads(text)
    for spec in SETTINGS:
        assert f"{spec.key} = " in text
        value = parsed[spec.section][spec.key]
        assert (tuple(value) if isinstance(value, list) else value) == spec.default
    _write(tmp_path, text)
    assert load_settings(tmp_path, env={}) == Settings(root=tmp_path.resolve())


def test_rendered_file_comments_every_setting() -> None:
    lines = render_default_toml().splitlines()
    for index, line in enumerate(lines):
        if " = " in line and not line.startswith("#"):
            assert lines[index - 1].startswith("#"), line


def test_toml_then_env_then_flags(tmp_path: Path) -> None:
    _write(tmp_path, '[server]\nport = 9000\nhost = "0.0.0.0"\n[content]\nversions_kept = 5\n')
    env = {"MODULACMS_SERVER_PORT": "9100", "MODULACMS_PLUGINS_ENABLED": "no"}
    settings = load_settings(tmp_path, env=env, overrides={"server_host": None})
    assert (settings.server_port, settings.server_host) == (9100, "0.0.0.0")
    assert settings.content_versions_kept == 5
    assert settings.plugins_enabled is False
    flagged = load_settings(tmp_path, env=env, overrides={"server_port": 9200})
    assert flagged.server_port == 9200
    assert with_overrides(flagged, {"server_workers": 3}).server_workers == 3


def test_list_and_float_settings(tmp_path: Path) -> None:
    _write(tmp_path, '[server]\ncors_origins = ["https://a.example"]\n[plugins]\ntimeout = 2\n')
    settings = load_settings(tmp_path, env={})
    assert settings.server_cors_origins == ("https://a.example",)
    env = {"MODULACMS_SERVER_CORS_ORIGINS": "https://b.example, https://c.example"}
    from_env = load_settings(tmp_path, env=env)
    assert from_env.server_cors_origins == ("https://b.example", "https://c.example")
    assert settings.plugins_timeout == 2.0 and isinstance(settings.plugins_timeout, float)


def test_unknown_key_names_file_key_and_suggestion(tmp_path: Path) -> None:
    path = _write(tmp_path, "[server]\nprot = 80\n")
    with pytest.raises(ConfigError) as info:
        load_settings(tmp_path, env={})
    message = str(info.value)
    assert str(path) in message and "prot" in message and "did you mean port?" in message


def test_unknown_section(tmp_path: Path) -> None:
    path = _write(tmp_path, "[sever]\nport = 80\n")
    with pytest.raises(
        ConfigError, match=r"unknown section \[sever\].*did you mean server"
    ) as info:
        load_settings(tmp_path, env={})
    assert str(path) in str(info.value)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('[server]\nport = "80"\n', "[server] port: expected a whole number"),
        ("[server]\nport = 70000\n", "[server] port: must be at most 65535"),
        ("[server]\naccess_log = 1\n", "[server] access_log: expected true or false"),
        ('[logging]\nlevel = "loud"\n', "must be one of debug, info"),
        ("[server]\ncors_origins = [1]\n", "expected a list of strings"),
        ("server = 1\n", "server must be a [server] table"),
        ("[server\n", "invalid TOML"),
    ],
)
def test_mistyped_values(tmp_path: Path, text: str, fragment: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_settings(tmp_path, env={})
    assert str(path) in str(info.value)
    assert fragment in str(info.value)


def test_environment_errors_name_the_variable() -> None:
    with pytest.raises(ConfigError, match="MODULACMS_SERVER_PORT: expected a whole number"):
        read_env({"MODULACMS_SERVER_PORT": "eighty"})
    with pytest.raises(ConfigError, match="MODULACMS_SERVER_PROT: unknown setting"):
        read_env({"MODULACMS_SERVER_PROT": "80"})
    # variables outside the setting sections belong to something else
    assert read_env({"MODULACMS_PROJECT": "/tmp/x", "HOME": "/root"}) == {}


def test_flag_errors_and_unknown_flag_names(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="command line: server.port: must be at most"):
        load_settings(tmp_path, env={}, overrides={"server_port": 123456})
    with pytest.raises(ConfigError, match="did you mean server_port"):
        load_settings(tmp_path, env={}, overrides={"server_prot": 1})


def test_as_dict_is_grouped_by_section() -> None:
    data = Settings().as_dict()
    assert data["server"]["port"] == 8080
    assert data["server"]["cors_origins"] == []
    assert sum(len(v) for v in data.values()) == len(SETTINGS)
