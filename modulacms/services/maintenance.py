"""Looking after a project's database: status, migrations, checks, backups and restores.

Works on the project's files (``Settings``) rather than on an open ``App``, because a
restore replaces the database under any open connection and ``init`` must create the
file before anything can open it. Front ends call this; they never touch the files.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from modulacms.config import Settings
from modulacms.core.models import HealReport
from modulacms.db import backup as files
from modulacms.db.connection import Database
from modulacms.db.migrate import current_version, latest_version, migrate
from modulacms.errors import Conflict, NotFound, StoreError
from modulacms.project import ProjectUse, active_uses

Progress = files.Progress

_BACKUP_NAME = re.compile(r"^modulacms-(\d{8}T\d{6}Z)(?:-[a-z0-9-]+)?\.db$")
_LABEL = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True, slots=True)
class MigrationReport:
    """Schema versions before and after, and the migration files applied."""

    database: Path
    from_version: int
    to_version: int
    applied: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class BackupInfo:
    """One backup file in the project's backup directory."""

    name: str
    path: Path
    size: int
    created_at: str


@dataclass(frozen=True, slots=True)
class RestoreReport:
    """What a restore did: the backup used, the safety copy made first, the new version."""

    restored: BackupInfo
    safety_backup: BackupInfo
    schema_version: int


@dataclass(frozen=True, slots=True)
class CheckReport:
    """``db check``: SQLite's own checks plus the content tree's pointer chains."""

    integrity: tuple[str, ...]
    tree: HealReport | None

    @property
    def ok(self) -> bool:
        return not self.integrity and (self.tree is None or not self.tree.problems)


@dataclass(frozen=True, slots=True)
class StatusReport:
    """``modulacms status``: where the project is and what it holds."""

    root: Path
    database: Path
    database_size: int
    schema_version: int
    latest_schema_version: int
    counts: dict[str, int]
    in_use: tuple[ProjectUse, ...]


class Maintenance:
    """Database care for the project described by ``settings``."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @property
    def database(self) -> Path:
        return self.settings.database_file

    @contextmanager
    def _open(self) -> Iterator[Database]:
        if not self.database.is_file():
            raise StoreError(
                f"database {self.database} does not exist; create it with `modulacms db migrate`"
            )
        db = Database(self.database)
        try:
            yield db
        finally:
            db.close()

    # -- status and schema ---------------------------------------------------------------

    def status(self) -> StatusReport:
        """Paths, size, schema version, row counts and the processes using the project."""
        with self._open() as db:
            version = current_version(db)
            counts = files.store_counts(db) if version else {}
        counts["plugins"] = self._plugins_on_disk()
        return StatusReport(
            root=self.settings.root,
            database=self.database,
            database_size=files.file_size(self.database),
            schema_version=version,
            latest_schema_version=latest_version(),
            counts=counts,
            in_use=tuple(active_uses(self.settings)),
        )

    def _plugins_on_disk(self) -> int:
        directory = self.settings.plugins_dir
        if not directory.is_dir():
            return 0
        return sum(1 for entry in directory.iterdir() if (entry / "init.lua").is_file())

    def migrate(self) -> MigrationReport:
        """Create the database if needed and apply pending migrations.

        Raises ``StoreError`` when the file is newer than this ModulaCMS.
        """
        self.database.parent.mkdir(parents=True, exist_ok=True)
        with Database(self.database) as db:
            before = current_version(db)
            applied = migrate(db)
            return MigrationReport(
                self.database, before, current_version(db), tuple(m.name for m in applied)
            )

    def check(self, tree_check: Callable[[], HealReport] | None = None) -> CheckReport:
        """Integrity and foreign-key checks, plus ``tree_check`` (a dry-run heal) if given."""
        with self._open() as db:
            integrity = tuple(files.integrity_problems(db))
        return CheckReport(integrity, tree_check() if tree_check else None)

    # -- backups ---------------------------------------------------------------------------

    def backups(self) -> list[BackupInfo]:
        """Backups in the backup directory, oldest first."""
        directory = self.settings.backups_dir
        if not directory.is_dir():
            return []
        found = [_info(path) for path in directory.iterdir() if _BACKUP_NAME.match(path.name)]
        # several backups can share a second: the file time orders them
        return sorted(found, key=lambda b: (b.created_at, b.path.stat().st_mtime_ns))

    def create_backup(self, label: str = "", progress: Progress | None = None) -> BackupInfo:
        """Copy the live database (consistent even while a server writes) into a new file.

        ``label`` (letters, digits) becomes part of the file name. Older backups beyond
        ``backup.keep`` are deleted afterwards.
        """
        directory = self.settings.backups_dir
        directory.mkdir(parents=True, exist_ok=True)
        path = _new_backup_path(directory, label)
        files.copy_database(self.database, path, progress)
        self._prune(keep=path)
        return _info(path)

    def _prune(self, keep: Path) -> None:
        limit = self.settings.backup_keep
        if limit <= 0:
            return
        backups = self.backups()
        for old in backups[: max(0, len(backups) - limit)]:
            if old.path != keep:
                old.path.unlink(missing_ok=True)

    def find_backup(self, name: str) -> BackupInfo:
        """A backup by file name (in the backup directory) or by path."""
        candidates = [self.settings.backups_dir / name, Path(name)]
        for path in candidates:
            if path.is_file():
                return _info(path)
        raise NotFound("backup", name, f"no backup named {name}; see `modulacms backup list`")

    def restore(
        self, name: str, *, force: bool = False, progress: Progress | None = None
    ) -> RestoreReport:
        """Replace the database with a backup, after saving the current one as a backup.

        Refuses (``Conflict``) while a server or TUI uses the project unless ``force``.
        The backup is checked first (``StoreError`` when it is damaged or newer than this
        ModulaCMS); an older backup is migrated after the restore.
        """
        chosen = self.find_backup(name)
        users = active_uses(self.settings)
        if users and not force:
            raise Conflict(f"the project is in use by {_describe(users)}; stop it first or force")
        problems = files.quick_check(chosen.path)
        if problems:
            raise StoreError(f"backup {chosen.name} is damaged: {problems[0]}")
        version = files.schema_version(chosen.path)
        if version > latest_version():
            raise StoreError(
                f"backup {chosen.name} has schema version {version}, newer than this "
                f"ModulaCMS understands ({latest_version()})"
            )
        safety = self.create_backup("before-restore")
        files.restore_database(chosen.path, self.database, progress)
        report = self.migrate()
        return RestoreReport(chosen, safety, report.to_version)


def _describe(users: list[ProjectUse]) -> str:
    parts = []
    for use in users:
        where = use.details.get("url")
        parts.append(f"a {use.kind} (pid {use.pid}{', ' + str(where) if where else ''})")
    return ", ".join(parts)


def _new_backup_path(directory: Path, label: str) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    slug = _LABEL.sub("-", label.lower()).strip("-")
    base = f"modulacms-{stamp}" + (f"-{slug}" if slug else "")
    path = directory / f"{base}.db"
    counter = 2
    while path.exists():
        path = directory / f"{base}-{counter}.db"
        counter += 1
    return path


def _info(path: Path) -> BackupInfo:
    match = _BACKUP_NAME.match(path.name)
    if match:
        moment = datetime.strptime(match.group(1), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    else:
        moment = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    created = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    return BackupInfo(path.name, path.resolve(), path.stat().st_size, created)
