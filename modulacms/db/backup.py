"""Whole-database operations: online copies, restore, integrity checks and row counts.

Copies use SQLite's online backup API. The source is read inside one read transaction,
so in WAL mode the copy is a consistent snapshot of the moment it started, and a server
writing to the database at the same time neither blocks nor restarts it. Copies are
single self-contained files (rollback journal mode), safe to move or mail around.

Restore writes a backup's pages into the live database through SQLite as well (never a
file rename), so connections other processes hold stay valid and see the restored data.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import apsw

from modulacms.db.connection import BUSY_TIMEOUT_MS, Database
from modulacms.errors import StoreError

Progress = Callable[[int, int], None]
"""Called as ``progress(pages_done, pages_total)`` after each step of a copy."""

PAGES_PER_STEP = 512


def _open(path: Path, *, readonly: bool) -> apsw.Connection:
    flags = apsw.SQLITE_OPEN_READONLY if readonly else apsw.SQLITE_OPEN_READWRITE
    try:
        conn = apsw.Connection(str(path), flags=flags)
        conn.set_busy_timeout(BUSY_TIMEOUT_MS)
        return conn
    except apsw.Error as exc:
        raise StoreError(f"cannot open database {path}: {exc}") from exc


def _copy(source: apsw.Connection, dest: apsw.Connection, progress: Progress | None) -> None:
    with dest.backup("main", source, "main") as job:
        while not job.done:
            job.step(PAGES_PER_STEP)
            if progress is not None:
                progress(job.page_count - job.remaining, job.page_count)


def copy_database(source: Path, destination: Path, progress: Progress | None = None) -> None:
    """Write a consistent copy of the database ``source`` to the new file ``destination``.

    The copy is written to a temporary name next to ``destination`` and renamed into
    place once complete, so a crash never leaves a half-written backup under its final
    name. Raises ``StoreError`` when the source cannot be read or the copy fails.
    """
    if not source.is_file():
        raise StoreError(f"database {source} does not exist")
    partial = destination.with_name(destination.name + ".partial")
    partial.unlink(missing_ok=True)
    reader = _open(source, readonly=True)
    try:
        reader.execute("BEGIN")
        # the first read pins the snapshot that every backup step then sees
        reader.execute("SELECT count(*) FROM sqlite_schema").fetchall()
        dest = apsw.Connection(str(partial))
        try:
            _copy(reader, dest, progress)
            dest.execute("PRAGMA journal_mode=DELETE")
        finally:
            dest.close()
        reader.execute("COMMIT")
    except apsw.Error as exc:
        partial.unlink(missing_ok=True)
        raise StoreError(f"backup of {source} failed: {exc}") from exc
    finally:
        reader.close()
    os.replace(partial, destination)


def restore_database(backup: Path, target: Path, progress: Progress | None = None) -> None:
    """Replace the contents of the database ``target`` with those of ``backup``.

    Takes SQLite's write lock on ``target`` for the duration (waiting up to the busy
    timeout for a running writer). The target stays in WAL mode. Raises ``StoreError``.
    """
    source = _open(backup, readonly=True)
    try:
        dest = apsw.Connection(str(target))
        dest.set_busy_timeout(BUSY_TIMEOUT_MS)
        try:
            _copy(source, dest, progress)
            dest.execute("PRAGMA journal_mode=WAL")
        finally:
            dest.close()
    except apsw.Error as exc:
        raise StoreError(f"restore of {target} from {backup} failed: {exc}") from exc
    finally:
        source.close()


def schema_version(path: Path) -> int:
    """The ``user_version`` of a database file, opened read-only."""
    conn = _open(path, readonly=True)
    try:
        value = conn.execute("PRAGMA user_version").fetchall()[0][0]
        return value if isinstance(value, int) else 0
    except apsw.Error as exc:
        raise StoreError(f"{path} is not a readable SQLite database: {exc}") from exc
    finally:
        conn.close()


def quick_check(path: Path) -> list[str]:
    """Problems ``PRAGMA quick_check`` finds in a database file (empty when sound)."""
    conn = _open(path, readonly=True)
    try:
        rows = [str(r[0]) for r in conn.execute("PRAGMA quick_check")]
    except apsw.Error as exc:
        return [f"not a readable SQLite database: {exc}"]
    finally:
        conn.close()
    return [] if rows == ["ok"] else rows


def integrity_problems(db: Database) -> list[str]:
    """Problems found by ``PRAGMA integrity_check`` and ``PRAGMA foreign_key_check``."""
    problems = [str(r[0]) for r in db.execute("PRAGMA integrity_check")]
    if problems == ["ok"]:
        problems = []
    for table, rowid, parent, _ in db.execute("PRAGMA foreign_key_check"):
        problems.append(f"{table} row {rowid} refers to a missing row of {parent}")
    return problems


def file_size(path: Path) -> int:
    """Bytes used by a database: the file plus its WAL, when present."""
    total = 0
    for candidate in (path, path.with_name(path.name + "-wal")):
        if candidate.is_file():
            total += candidate.stat().st_size
    return total


_COUNTS = {
    "routes": "SELECT count(*) FROM routes",
    "routes_published": "SELECT count(*) FROM routes WHERE published_version_id IS NOT NULL",
    "nodes": "SELECT count(*) FROM content_data WHERE trashed_at IS NULL",
    "published": "SELECT count(*) FROM content_data WHERE trashed_at IS NULL"
    " AND status = 'published'",
    "drafts": "SELECT count(*) FROM content_data WHERE trashed_at IS NULL AND status = 'draft'",
    "scheduled": "SELECT count(*) FROM content_data WHERE trashed_at IS NULL"
    " AND status = 'scheduled'",
    "trashed": "SELECT count(*) FROM content_data WHERE trash_root = 1",
    "datatypes": "SELECT count(*) FROM datatypes",
    "fields": "SELECT count(*) FROM fields",
    "users": "SELECT count(*) FROM users",
    "media": "SELECT count(*) FROM media",
    "versions": "SELECT count(*) FROM content_versions",
}


def store_counts(db: Database) -> dict[str, int]:
    """Row counts for ``modulacms status`` (live content only, trash counted apart)."""
    return {name: int(db.scalar(sql) or 0) for name, sql in _COUNTS.items()}
