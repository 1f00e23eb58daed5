"""Install, capabilities and the pipeline registry, and orphaned plugin table cleanup, on a
real project (SQLite file, fixture plugins loaded by real lupa) through PluginAdmin and the
``modulacms plugin install|cleanup`` commands."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from plugin_helpers import PLUGINS

from modulacms.app import App, build_app
from modulacms.cli import cli
from modulacms.db.plugin_store import PluginStore
from modulacms.db.repositories.plugin_tables import core_tables
from modulacms.errors import BadRequest, NotFound, ValidationFailed
from modulacms.plugin_runtime.admin import PluginAdmin, manifest_hash
from modulacms.plugin_runtime.loader import extract_manifest

NOTES = {"columns": [{"name": "body", "type": "text"}]}


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[App, PluginAdmin]]:
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    for name in ("pipeline_plugin", "pipeline_rival"):
        shutil.copytree(PLUGINS / name, plugins / name)
    app = build_app(tmp_path / "site.db")
    try:
        yield app, PluginAdmin(plugins, app.db, app.services)
    finally:
        app.close()


def tables(app: App) -> set[str]:
    return {n for (n,) in app.db.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def test_install_creates_the_row_and_pipelines_once(site: tuple[App, PluginAdmin]) -> None:
    app, admin = site
    first = admin.install("pipeline_plugin")
    assert first.installed and first.capabilities == 3 and first.status == "installed"
    assert first.message == 'plugin "pipeline_plugin" v1.2.0 installed (3 capabilities).'
    row = app.db.one(
        "SELECT status, version, approved_access, manifest_hash FROM plugins WHERE name = ?",
        ("pipeline_plugin",),
    )
    assert row is not None
    assert row[:2] == ("installed", "1.2.0")
    assert json.loads(row[2]) == {"content_data": ["read"]}
    manifest = extract_manifest(admin.plugin_dir / "pipeline_plugin")
    assert row[3] == manifest_hash(manifest)
    entries = [(p.key, p.handler, p.priority) for p in admin.pipelines()]
    # the capability without a table is left out; chains are in priority order
    assert entries == [
        ("content_data.after_publish", "notify", 100),
        ("content_data.before_create", "stamp_slug", 10),
        ("content_data.before_create", "check_title", 50),
    ]
    again = admin.install("pipeline_plugin")
    assert not again.installed and again.capabilities == 0
    assert "already installed (status installed); nothing changed" in again.message
    assert len(admin.pipelines()) == 3


def test_install_records_capabilities_of_an_auto_registered_plugin(
    site: tuple[App, PluginAdmin],
) -> None:
    app, admin = site
    manifest = extract_manifest(admin.plugin_dir / "pipeline_rival")
    # what the server's discovery does on first sight: a row, no capabilities yet
    admin.approvals.register_plugin(manifest.name, manifest.version, manifest.description, "", {})
    result = admin.install("pipeline_rival")
    assert not result.installed and result.capabilities == 1
    assert "already registered" in result.message
    assert admin.auto_register([manifest]) == []
    assert [p.handler for p in admin.pipelines()] == ["audit"]


def test_install_rejects_unknown_and_invalid_plugins(site: tuple[App, PluginAdmin]) -> None:
    _, admin = site
    with pytest.raises(NotFound):
        admin.install("nope")
    shutil.copytree(PLUGINS / "invalid_bad_name", admin.plugin_dir / "invalid_bad_name")
    with pytest.raises(ValidationFailed, match="is not valid"):
        admin.install("invalid_bad_name")


def test_sync_capabilities_rewrites_from_disk_and_reports_drift(
    site: tuple[App, PluginAdmin],
) -> None:
    app, admin = site
    admin.install("pipeline_plugin")
    init = admin.plugin_dir / "pipeline_plugin" / "init.lua"
    text = init.read_text().replace('handler = "notify"', 'handler = "announce"')
    init.write_text(text.replace('"1.2.0"', '"1.3.0"'))
    changed = extract_manifest(init.parent)
    drift = admin.capability_drift(changed)
    assert drift == {
        "capability_drift": {
            "added": ["content_data.after_publish:announce"],
            "removed": ["content_data.after_publish:notify"],
        },
        "manifest_drift": True,
    }
    result = admin.sync_capabilities("pipeline_plugin")
    assert result.version == "1.3.0" and result.count == 3
    assert result.added == ("content_data.after_publish:announce",)
    assert result.removed == ("content_data.after_publish:notify",)
    assert {p.plugin_version for p in admin.pipelines()} == {"1.3.0"}
    assert admin.capability_drift(changed) == {
        "capability_drift": {"added": [], "removed": []},
        "manifest_drift": False,
    }


def test_dry_run_orders_by_priority_then_plugin_and_skips_disabled(
    site: tuple[App, PluginAdmin],
) -> None:
    _, admin = site
    admin.install("pipeline_plugin")
    admin.install("pipeline_rival")
    run = admin.pipelines_dry_run("content_data", "before_create")
    assert [(p.plugin, p.handler) for p in run.chain] == [
        ("pipeline_plugin", "stamp_slug"),
        ("pipeline_rival", "audit"),
        ("pipeline_plugin", "check_title"),
    ]
    assert run.skipped == []
    admin.approvals.set_status("pipeline_rival", "disabled")
    run = admin.pipelines_dry_run("content_data", "before_create")
    assert [p.handler for p in run.chain] == ["stamp_slug", "check_title"]
    assert [(p.handler, why) for p, why in run.skipped] == [("audit", "plugin disabled")]
    assert admin.pipelines_dry_run("content_data", "after_delete").chain == []
    with pytest.raises(BadRequest):
        admin.pipelines_dry_run("content_data", "")


def test_deleting_a_plugin_row_removes_its_pipelines(site: tuple[App, PluginAdmin]) -> None:
    app, admin = site
    admin.install("pipeline_rival")
    with app.db.transaction() as conn:
        conn.execute("DELETE FROM plugins WHERE name = 'pipeline_rival'")
    assert admin.pipelines() == []


def orphan_setup(app: App, admin: PluginAdmin) -> None:
    """An owned table (created by the plugin's own on_init), a registered table of a plugin
    that is gone, an unregistered stray, and a table of a plugin whose init.lua is broken."""
    admin.sync("pipeline_plugin")
    store = PluginStore(app.db)
    store.define_table("gone", "items", NOTES)
    store.define_table("broken", "drafts", NOTES)
    broken = admin.plugin_dir / "broken"
    broken.mkdir()
    (broken / "init.lua").write_text("plugin_info = {  -- unfinished edit\n")
    with app.db.transaction() as conn:
        conn.execute('CREATE TABLE "plugin_stray" (x TEXT)')


def test_orphans_exclude_owned_broken_and_core_tables(site: tuple[App, PluginAdmin]) -> None:
    app, admin = site
    orphan_setup(app, admin)
    assert "plugin_pipeline_plugin_notes" in tables(app)
    assert admin.orphaned_tables() == ["plugin_gone_items", "plugin_stray"]
    assert {"plugin_routes", "plugin_hooks", "plugin_requests", "plugins"} <= core_tables()


def test_drop_rechecks_and_never_drops_owned_or_core_tables(
    site: tuple[App, PluginAdmin],
) -> None:
    app, admin = site
    orphan_setup(app, admin)
    before = tables(app)
    dropped, refused = admin.drop_orphaned_tables(
        [
            "plugin_gone_items",
            "plugin_pipeline_plugin_notes",
            "plugin_broken_drafts",
            "plugin_routes",
            "content_data",
            "plugin_missing",
            'plugin_x"; DROP TABLE users; --',
        ]
    )
    assert dropped == ["plugin_gone_items"]
    assert [(r.table, r.reason) for r in refused] == [
        ("plugin_pipeline_plugin_notes", 'owned by plugin "pipeline_plugin"'),
        ("plugin_broken_drafts", 'owned by plugin "broken"'),
        ("plugin_routes", "core table"),
        ("content_data", "core table"),
        ("plugin_missing", "no such table"),
        ('plugin_x"; DROP TABLE users; --', "no such table"),
    ]
    assert tables(app) == before - {"plugin_gone_items"}
    assert app.db.scalar("SELECT count(*) FROM tables WHERE label = 'plugin_gone_items'") == 0
    # a plugin that comes back owns its table again: the re-check happens at drop time
    shutil.copytree(PLUGINS / "pipeline_rival", admin.plugin_dir / "stray")
    (admin.plugin_dir / "stray" / "init.lua").write_text(
        'plugin_info = { name = "stray", version = "1", description = "d" }\n'
    )
    with app.db.transaction() as conn:
        conn.execute('CREATE TABLE "plugin_stray_keep" (x TEXT)')
    dropped, refused = admin.drop_orphaned_tables(["plugin_stray_keep", "plugin_stray"])
    assert dropped == ["plugin_stray"]
    assert [r.table for r in refused] == ["plugin_stray_keep"]


def test_drop_refuses_without_a_plugin_directory(site: tuple[App, PluginAdmin]) -> None:
    app, admin = site
    missing = PluginAdmin(admin.plugin_dir.parent / "nowhere", app.db)
    with pytest.raises(BadRequest, match="does not exist"):
        missing.drop_orphaned_tables(["plugin_anything"])


# -- the CLI --------------------------------------------------------------------------

CLEAN = {k: None for k in os.environ if k.startswith("MODULACMS_")}
ADMIN = ["--admin-email", "admin@example.com", "--admin-password", "S3cret-pass"]


def run(project: Path, *args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(cli, ["--project", str(project), *args], env=CLEAN, input=stdin)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "site"
    result = CliRunner().invoke(cli, ["init", str(root), *ADMIN], env=CLEAN)
    assert result.exit_code == 0, result.output
    shutil.copytree(PLUGINS / "pipeline_plugin", root / "plugins" / "pipeline_plugin")
    return root


def test_cli_install_shows_the_manifest_and_is_idempotent(project: Path) -> None:
    result = run(project, "plugin", "install", "pipeline_plugin", "--yes")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Name:          pipeline_plugin" in out and "Version:       1.2.0" in out
    assert "Author:        ModulaCMS tests" in out
    assert "  content_data.before_create -> stamp_slug (priority 10)" in out
    assert "  content_data: read" in out
    assert 'plugin "pipeline_plugin" v1.2.0 installed (3 capabilities).' in out
    result = run(project, "plugin", "install", "pipeline_plugin")
    assert result.exit_code == 0 and "already installed" in result.stdout
    result = run(project, "plugin", "install", "nope", "--yes")
    assert result.exit_code != 0 and "plugin not found: nope" in result.output
    assert "Traceback" not in result.output


def test_cli_cleanup_lists_then_drops(project: Path) -> None:
    with build_app(project / "modulacms.db") as app:
        PluginStore(app.db).define_table("gone", "items", NOTES)
        PluginStore(app.db).define_table("pipeline_plugin", "notes", NOTES)
    result = run(project, "plugin", "cleanup", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "orphaned_tables": ["plugin_gone_items"],
        "count": 1,
        "action": "dry_run",
    }
    result = run(project, "plugin", "cleanup")
    assert "1 orphaned table(s); run with --yes to drop them." in result.stdout
    result = run(project, "plugin", "cleanup", "--yes")
    assert result.exit_code == 0 and "dropped 1 orphaned table(s)." in result.stdout
    result = run(project, "plugin", "cleanup")
    assert "no orphaned plugin tables." in result.stdout
    with build_app(project / "modulacms.db") as app:
        assert "plugin_pipeline_plugin_notes" in tables(app)
