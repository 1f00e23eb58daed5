"""The connection layer and migrations on real SQLite files."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from modulacms.db.connection import Database
from modulacms.db.migrate import current_version, latest_version, migrate
from modulacms.errors import StoreError


def test_pragmas_are_set(db: Database) -> None:
    assert db.scalar("PRAGMA journal_mode") == "wal"
    assert db.scalar("PRAGMA foreign_keys") == 1
    assert db.scalar("PRAGMA synchronous") == 1  # NORMAL


def test_migrate_is_idempotent(db: Database) -> None:
    assert current_version(db) == latest_version() >= 1
    assert migrate(db) == []


def test_newer_database_is_refused(tmp_path: Path) -> None:
    database = Database(tmp_path / "future.db")
    database.execute("PRAGMA user_version = 999")
    with pytest.raises(StoreError, match="newer than this ModulaCMS"):
        migrate(database)
    database.close()


def _insert_site(conn, name: str) -> None:
    conn.execute(
        "INSERT INTO sites (site_id, name, date_created, date_modified) VALUES (?, ?, 'x', 'x')",
        (name, name),
    )


def test_transaction_commits_and_rolls_back(db: Database) -> None:
    with db.transaction() as conn:
        _insert_site(conn, "a")
    with pytest.raises(RuntimeError), db.transaction() as conn:
        _insert_site(conn, "b")
        raise RuntimeError("boom")
    assert [r[0] for r in db.execute("SELECT name FROM sites")] == ["a"]


def test_nested_transaction_is_a_savepoint(db: Database) -> None:
    with db.transaction() as conn:
        _insert_site(conn, "outer")
        with pytest.raises(ValueError), db.transaction() as inner:
            _insert_site(inner, "inner")
            raise ValueError("inner fails")
        # the outer transaction sees its own write through connection()
        assert db.scalar("SELECT count(*) FROM sites") == 1
    assert [r[0] for r in db.execute("SELECT name FROM sites")] == ["outer"]


def test_readers_see_commits_from_other_threads(db: Database) -> None:
    def writer() -> None:
        with db.transaction() as conn:
            _insert_site(conn, "from-thread")

    thread = threading.Thread(target=writer)
    thread.start()
    thread.join()
    assert db.scalar("SELECT name FROM sites") == "from-thread"


def test_data_version_changes_on_foreign_commit(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    first, second = Database(path), Database(path)
    migrate(first)
    before = first.data_version()
    with second.transaction() as conn:
        _insert_site(conn, "other-process")
    assert first.data_version() != before
    first.close()
    second.close()


def test_double_quoted_unknown_names_are_errors(db: Database) -> None:
    import apsw

    with pytest.raises(apsw.SQLError, match="no such column"):
        db.execute('SELECT "nope" FROM sites')


def test_change_token_moves_when_another_process_writes(tmp_path: Path) -> None:
    from modulacms.app import build_app
    from modulacms.core.models import Actor

    path = tmp_path / "token.db"
    with build_app(path) as watcher, build_app(path) as editor:
        before = watcher.services.change_token()
        assert watcher.services.change_token() == before
        editor.services.routes.create("/changed", Actor.system())
        assert watcher.services.change_token() != before
