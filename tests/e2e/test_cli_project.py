"""The project lifecycle through the CLI: init, discovery, settings errors, status, the
error boundary, and what `modulacms --help` may import."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest
from cli_support import ADMIN, db_state, make_demo, one_line_error, run, run_process

from modulacms.config import SETTINGS
from modulacms.project import bundled_plugins_dir


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_demo(tmp_path_factory.mktemp("demo") / "site")


def test_init_creates_a_complete_project(tmp_path: Path) -> None:
    result = run(["init", str(tmp_path / "site"), "--json", "--admin-email", "ed@example.com"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    root = tmp_path / "site"
    assert data["project"] == str(root.resolve()) and data["created"] is True
    assert data["admin_email"] == "ed@example.com"
    assert len(data["generated_password"]) >= 16 and data["demo"] is None
    for folder in ("plugins", "media", "backups"):
        assert (root / folder).is_dir()
    settings = tomllib.loads((root / "modulacms.toml").read_text())
    assert all(spec.key in settings[spec.section] for spec in SETTINGS)
    state = db_state(root)
    assert [row[1] for row in state["users"]] == ["ed@example.com"]
    assert state["routes"] == []
    # the generated password works: it is the admin's password
    passwd = run(["--project", str(root), "user", "list", "--json"])
    assert json.loads(passwd.stdout)[0]["role"] == "admin"


def test_init_on_an_existing_project_changes_nothing(demo: Path) -> None:
    before = db_state(demo)
    settings = (demo / "modulacms.toml").read_text()
    result = run(["init", str(demo), "--demo", *ADMIN])
    assert result.exit_code == 0
    assert "already a ModulaCMS project; nothing was changed" in result.stdout
    assert db_state(demo) == before
    assert (demo / "modulacms.toml").read_text() == settings


def test_failed_init_leaves_nothing_behind(tmp_path: Path) -> None:
    target = tmp_path / "site"
    result = run(["init", str(target), "--admin-email", "not-an-email"])
    assert result.exit_code == 1
    assert "expected an email address" in one_line_error(result.stderr)
    assert not target.exists()


def test_demo_site_is_published_and_deep(demo: Path) -> None:
    status = json.loads(run(["--project", str(demo), "status", "--json"]).stdout)
    counts = status["counts"]
    assert counts["routes"] == counts["routes_published"] == 8
    assert counts["nodes"] == counts["published"] > 40 and counts["drafts"] == 0
    assert counts["datatypes"] >= 5 and counts["users"] == 1
    assert status["server_running"] is False and status["in_use"] == []
    tree = json.loads(run(["--project", str(demo), "content", "tree", "/", "--json"]).stdout)

    def depth(node: dict[str, object]) -> int:
        children = node["children"]
        assert isinstance(children, list)
        return 1 + max((depth(c) for c in children), default=0)

    assert depth(tree["root"]) >= 4
    # the bundled example plugins come with the demo
    bundled = bundled_plugins_dir()
    shipped = (
        {p.name for p in bundled.iterdir() if (p / "init.lua").is_file()} if bundled else set()
    )
    assert {p.name for p in (demo / "plugins").iterdir()} == shipped
    assert counts["plugins"] == len(shipped)
    slugs = [
        r["slug"]
        for r in json.loads(run(["--project", str(demo), "route", "list", "--json"]).stdout)
    ]
    assert {"/", "/about", "/blog"} <= set(slugs)
    assert len([s for s in slugs if s.startswith("/blog/")]) == 5


def test_project_is_found_by_flag_env_and_walking_up(demo: Path, tmp_path: Path) -> None:
    nested = demo / "media" / "deeper"
    nested.mkdir(exist_ok=True)
    walked = run_process(["status", "--json"], cwd=nested)
    assert walked.returncode == 0, walked.stderr
    assert json.loads(walked.stdout)["project"] == str(demo.resolve())
    by_env = run(["status", "--json"], env={"MODULACMS_PROJECT": str(demo)})
    assert json.loads(by_env.stdout)["project"] == str(demo.resolve())
    outside = run_process(["route", "list"], cwd=tmp_path)
    assert outside.returncode == 1
    line = one_line_error(outside.stderr)
    assert "no ModulaCMS project" in line and "modulacms init DIR" in line
    missing = run(["--project", str(tmp_path / "nope"), "status"])
    assert missing.exit_code == 1
    assert "modulacms init" in one_line_error(missing.stderr)
    not_one = run(["--project", str(tmp_path), "status"])
    assert "not a ModulaCMS project" in one_line_error(not_one.stderr)


def test_settings_errors_name_the_file_and_the_key(demo: Path, tmp_path: Path) -> None:
    project = tmp_path / "bad"
    (project).mkdir()
    (project / "modulacms.toml").write_text("[server]\nprot = 8080\n")
    result = run(["--project", str(project), "status"])
    assert result.exit_code == 1
    line = one_line_error(result.stderr)
    assert str(project / "modulacms.toml") in line and "prot" in line and "port" in line
    env = run(["--project", str(demo), "status"], env={"MODULACMS_SERVER_PORT": "http"})
    assert "MODULACMS_SERVER_PORT" in one_line_error(env.stderr)


def test_usage_errors_exit_2_with_one_line(demo: Path) -> None:
    result = run(["--project", str(demo), "route", "list", "--bogus"])
    assert result.exit_code == 2
    assert "--bogus" in one_line_error(result.stderr)
    assert run(["--project", str(demo), "nosuchnoun"]).exit_code == 2


def test_debug_adds_the_traceback(demo: Path) -> None:
    plain = run(["--project", str(demo), "route", "show", "/missing"])
    assert plain.exit_code == 1 and "route /missing not found" in one_line_error(plain.stderr)
    debug = run(["--project", str(demo), "--debug", "route", "show", "/missing"])
    assert debug.exit_code == 1
    assert "Traceback" in debug.stderr and "NotFound" in debug.stderr


def test_help_lists_every_noun() -> None:
    result = run(["--help"])
    assert result.exit_code == 0
    for noun in (
        "init",
        "status",
        "route",
        "datatype",
        "field",
        "content",
        "user",
        "token",
        "role",
        "db",
        "backup",
        "export",
        "import",
        "serve",
    ):
        assert f"  {noun} " in result.stdout, noun


HYGIENE = textwrap.dedent(
    """
    import sys
    from modulacms.cli import main
    sys.argv = ["modulacms", *sys.argv[1:]]
    try:
        main()
    except SystemExit as exc:
        code = exc.code
    heavy = sorted(
        name for name in sys.modules
        if name.split(".")[0] in ("textual", "lupa", "rich")
        or name.startswith(("modulacms.http", "modulacms.tui", "modulacms.plugin_runtime",
                            "http.server"))
    )
    print("HEAVY", heavy, "EXIT", code, file=sys.stderr)
    """
)


@pytest.mark.parametrize("args", [["--help"], ["content", "tree", "/"]])
def test_startup_does_not_import_heavy_modules(demo: Path, args: list[str]) -> None:
    process = subprocess.run(
        [sys.executable, "-c", HYGIENE, *args],
        cwd=demo,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )
    assert "HEAVY [] EXIT 0" in process.stderr, process.stderr


def test_without_a_terminal_no_command_prints_help_and_tui_refuses(demo: Path) -> None:
    bare = run(["--project", str(demo)])
    assert bare.exit_code == 0 and "Usage: modulacms" in bare.stdout
    tui = run(["--project", str(demo), "tui"])
    assert tui.exit_code == 2 and "needs a terminal" in one_line_error(tui.stderr)


def test_demo_at_size(tmp_path: Path) -> None:
    result = run(["init", str(tmp_path / "big"), "--demo", "--demo-posts", "40", *ADMIN, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["demo"]["routes"] == 43


def test_the_cli_never_imports_the_store_directly() -> None:
    import ast

    import modulacms.cli

    package = Path(modulacms.cli.__file__).parent
    for path in sorted(package.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            for name in names:
                assert not name.startswith(("modulacms.db", "apsw")), f"{path.name}: {name}"
