"""Online backups and restores on real database files, with a writer running alongside."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from modulacms.config import Settings
from modulacms.core.models import Actor
from modulacms.db.backup import quick_check
from modulacms.db.connection import Database
from modulacms.errors import Conflict, NotFound, StoreError
from modulacms.project import project_use
from modulacms.services.maintenance import Maintenance
from modulacms.services.registry import build_services

# A separate process that keeps writing while the backup runs: every transaction adds
# two rows, so any consistent snapshot holds an even number of them.
WRITER = textwrap.dedent(
    """
    import sys, apsw
    conn = apsw.Connection(sys.argv[1])
    conn.set_busy_timeout(10000)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE IF NOT EXISTS pairs (n INTEGER, pad BLOB)")
    print("ready", flush=True)
    while True:
        with conn:
            conn.execute("INSERT INTO pairs VALUES (1, randomblob(400))")
            conn.execute("INSERT INTO pairs VALUES (2, randomblob(400))")
    """
)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    settings = Settings(root=tmp_path)
    Maintenance(settings).migrate()
    return settings


def _seed(settings: Settings, title: str) -> None:
    with Database(settings.database_file) as db:
        services = build_services(db)
        services.routes.ensure_default_site()
        services.routes.create("/about", Actor.system(), title=title)


def _titles(settings: Settings) -> list[str]:
    with Database(settings.database_file) as db:
        services = build_services(db)
        return [r.title for r in services.routes.list()]


def test_backup_is_a_consistent_copy_while_another_process_writes(settings: Settings) -> None:
    with Database(settings.database_file) as db, db.transaction() as conn:
        conn.execute("CREATE TABLE pairs (n INTEGER, pad BLOB)")
        conn.execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000) "
            "INSERT INTO pairs SELECT i % 2 + 1, randomblob(400) FROM n"
        )
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(settings.database_file)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
        time.sleep(0.2)
        steps: list[tuple[int, int]] = []
        info = Maintenance(settings).create_backup(
            "nightly", lambda done, total: steps.append((done, total))
        )
    finally:
        writer.kill()
        writer.communicate()
    assert info.name.startswith("modulacms-") and info.name.endswith("-nightly.db")
    assert len(steps) > 1 and steps[-1][0] == steps[-1][1]
    assert quick_check(info.path) == []
    with Database(info.path) as copy:
        count = copy.scalar("SELECT count(*) FROM pairs")
        assert count >= 20000 and count % 2 == 0
    # a backup is one self-contained file
    assert not info.path.with_name(info.name + "-wal").exists()


def test_restore_keeps_the_current_database_as_a_backup(settings: Settings) -> None:
    maintenance = Maintenance(settings)
    _seed(settings, "First")
    first = maintenance.create_backup()
    with Database(settings.database_file) as db:
        services = build_services(db)
        services.routes.update("/about", Actor.system(), title="Second")
    report = maintenance.restore(first.name)
    assert _titles(settings) == ["First"]
    assert report.safety_backup.name.endswith("-before-restore.db")
    assert [b.name for b in maintenance.backups()] == [first.name, report.safety_backup.name]
    # the safety copy holds what was there before the restore
    maintenance.restore(report.safety_backup.name)
    assert _titles(settings) == ["Second"]


def test_restore_while_a_connection_is_open_is_seen_by_it(settings: Settings) -> None:
    _seed(settings, "Before")
    maintenance = Maintenance(settings)
    saved = maintenance.create_backup()
    with Database(settings.database_file) as db:
        services = build_services(db)
        services.routes.update("/about", Actor.system(), title="After")
        assert [r.title for r in services.routes.list()] == ["After"]
        maintenance.restore(saved.name)
        assert [r.title for r in services.routes.list()] == ["Before"]


def test_restore_refuses_while_the_project_is_in_use(settings: Settings) -> None:
    maintenance = Maintenance(settings)
    saved = maintenance.create_backup()
    with project_use(settings, "server", {"url": "http://127.0.0.1:8080"}):
        with pytest.raises(Conflict, match=r"in use by a server \(pid \d+, http://127"):
            maintenance.restore(saved.name)
        assert len(maintenance.backups()) == 1
        maintenance.restore(saved.name, force=True)
    assert len(maintenance.backups()) == 2


def test_restore_rejects_unknown_and_damaged_backups(settings: Settings, tmp_path: Path) -> None:
    maintenance = Maintenance(settings)
    with pytest.raises(NotFound, match="no backup named nope.db"):
        maintenance.restore("nope.db")
    damaged = tmp_path / "damaged.db"
    damaged.write_bytes(b"SQLite format 3\x00" + b"\xff" * 4000)
    with pytest.raises(StoreError, match="damaged"):
        maintenance.restore(str(damaged))
    assert maintenance.backups() == []


def test_keep_prunes_the_oldest_backups(tmp_path: Path) -> None:
    settings = Settings(root=tmp_path, backup_keep=2)
    maintenance = Maintenance(settings)
    maintenance.migrate()
    made = [maintenance.create_backup(str(i)).name for i in range(4)]
    assert [b.name for b in maintenance.backups()] == made[2:]


def test_status_counts_and_missing_database(settings: Settings, tmp_path: Path) -> None:
    _seed(settings, "About")
    report = Maintenance(settings).status()
    assert report.counts["routes"] == 1 and report.counts["nodes"] == 0
    assert report.schema_version == report.latest_schema_version > 0
    assert report.in_use == ()
    empty = Settings(root=tmp_path / "elsewhere")
    with pytest.raises(StoreError, match="does not exist; create it with `modulacms db migrate`"):
        Maintenance(empty).status()
