"""Projects: finding one, and knowing which processes are using it.

A project is a directory holding ``modulacms.toml``, the database, ``plugins/``,
``media/`` and ``backups/``. Commands find it, in order, from ``--project DIR``, the
``MODULACMS_PROJECT`` environment variable, or by walking up from the current directory
to the first ``modulacms.toml``.

A long-running process (``serve``, the TUI) registers its use of a project with
:func:`project_use`: a small JSON file under ``.modulacms/run/`` that the process keeps
an exclusive ``flock`` on while it runs. The lock dies with the process, so a crashed
server never leaves the project looking busy; :func:`active_uses` tells them apart.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import shutil
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modulacms.config import CONFIG_FILE, Settings, load_settings, render_default_toml
from modulacms.core.clock import now
from modulacms.core.models import Actor
from modulacms.errors import ProjectError

if TYPE_CHECKING:
    from modulacms.app import App
    from modulacms.services.demo import DemoSummary

PROJECT_ENV = "MODULACMS_PROJECT"
RUN_DIR = ".modulacms/run"

_HOW_TO_CREATE = "create one with `modulacms init DIR` or point to one with --project DIR"


@dataclass(frozen=True, slots=True)
class Project:
    """A project directory and its resolved settings."""

    root: Path
    settings: Settings


def is_project(directory: Path) -> bool:
    """True when ``directory`` holds a ``modulacms.toml``."""
    return (directory / CONFIG_FILE).is_file()


def find_root(
    explicit: str | Path | None = None,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Path:
    """The project directory to use (see module docstring), resolved.

    Raises ``ProjectError`` with a message saying how to create a project when none is
    found, or when ``--project``/``MODULACMS_PROJECT`` names a directory that is not one.
    """
    environ = os.environ if env is None else env
    if explicit is not None:
        return _named(Path(explicit), "--project")
    if environ.get(PROJECT_ENV):
        return _named(Path(environ[PROJECT_ENV]), PROJECT_ENV)
    start = (cwd or Path.cwd()).resolve()
    for directory in (start, *start.parents):
        if is_project(directory):
            return directory
    raise ProjectError(f"no ModulaCMS project in {start} or its parents; {_HOW_TO_CREATE}")


def _named(directory: Path, source: str) -> Path:
    root = directory.expanduser().resolve()
    if not root.is_dir():
        raise ProjectError(
            f"{source} {directory}: no such directory; create a project there with "
            f"`modulacms init {directory}`"
        )
    if not is_project(root):
        raise ProjectError(
            f"{source} {directory}: not a ModulaCMS project (no {CONFIG_FILE}); create one "
            f"with `modulacms init {directory}`"
        )
    return root


def open_project(
    explicit: str | Path | None = None,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Project:
    """Find the project and resolve its settings (raises ``ProjectError``/``ConfigError``)."""
    root = find_root(explicit, env=env, cwd=cwd)
    return Project(root, load_settings(root, env=env, overrides=overrides))


# -- processes using a project ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProjectUse:
    """A live process using the project: ``kind`` is ``server`` or ``tui``."""

    kind: str
    pid: int
    started_at: str
    details: dict[str, Any] = field(default_factory=dict)


def _run_dir(settings: Settings) -> Path:
    return settings.root / RUN_DIR


class Registration:
    """This process's registration as a user of the project (see :func:`project_use`)."""

    def __init__(self, fd: int, use: ProjectUse) -> None:
        self._fd = fd
        self.use = use

    def update(self, **details: Any) -> None:
        """Add ``details`` (e.g. the URL once the port is known) to what others see."""
        self.use = ProjectUse(
            self.use.kind, self.use.pid, self.use.started_at, self.use.details | details
        )
        use = self.use
        payload = {"kind": use.kind, "pid": use.pid, "started_at": use.started_at, **use.details}
        data = json.dumps(payload).encode()
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, data, 0)


@contextmanager
def project_use(
    settings: Settings, kind: str, details: Mapping[str, Any] | None = None
) -> Iterator[Registration]:
    """Register this process as using the project for the duration of the block.

    ``details`` (JSON-able, e.g. the server's URL) is shown by ``modulacms status``.
    Child processes forked inside the block share the lock, so the registration lasts
    until the last of them exits.
    """
    directory = _run_dir(settings)
    directory.mkdir(parents=True, exist_ok=True)
    pid = os.getpid()
    path = directory / f"{kind}-{pid}.json"
    # locked and filled under a temporary name first: a reader must never see the file
    # unlocked, or it would take it for a stale registration and delete it
    pending = path.with_suffix(".tmp")
    fd = os.open(pending, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        registration = Registration(fd, ProjectUse(kind, pid, now(), {}))
        registration.update(**(details or {}))
        os.replace(pending, path)
        yield registration
    finally:
        with suppress(OSError):
            path.unlink()
        with suppress(OSError):
            pending.unlink()
        os.close(fd)


def _held(path: Path) -> bool:
    """True when another process holds the lock on ``path``."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def active_uses(settings: Settings, kind: str | None = None) -> list[ProjectUse]:
    """Live processes using the project (stale registrations are removed on the way)."""
    directory = _run_dir(settings)
    if not directory.is_dir():
        return []
    found: list[ProjectUse] = []
    for path in sorted(directory.glob("*.json")):
        if not _held(path):
            with suppress(OSError):
                path.unlink()
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        use = ProjectUse(
            str(data.pop("kind", "")),
            int(data.pop("pid", 0)),
            str(data.pop("started_at", "")),
            data,
        )
        if kind is None or use.kind == kind:
            found.append(use)
    return found


# -- creating a project ----------------------------------------------------------------

DEFAULT_ADMIN_EMAIL = "admin@example.com"


@dataclass(frozen=True, slots=True)
class InitResult:
    """What ``init`` did. ``generated_password`` is set only when init chose it."""

    root: Path
    created: bool
    admin_email: str | None = None
    generated_password: str | None = None
    demo: DemoSummary | None = None
    plugins: tuple[str, ...] = ()


def bundled_plugins_dir() -> Path | None:
    """The example plugins shipped with ModulaCMS (frozen binary or source tree)."""
    frozen = getattr(sys, "_MEIPASS", None)
    candidates = [Path(frozen) / "plugins"] if frozen else []
    candidates.append(Path(__file__).resolve().parent.parent / "plugins")
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    return None


def init_project(
    directory: Path,
    *,
    admin_email: str | None = None,
    admin_password: str | None = None,
    demo: bool = False,
    demo_posts: int = 5,
    progress: Callable[[int, int], None] | None = None,
    env: Mapping[str, str] | None = None,
) -> InitResult:
    """Create a project in ``directory``: settings file, migrated database, folders and an
    admin user; with ``demo``, also the demo site and the bundled example plugins.

    An existing project is left exactly as it is (``created`` is False). If any step
    fails, everything this call created is removed again and the error is raised.
    """
    root = directory.expanduser().resolve()
    if is_project(root):
        return InitResult(root, created=False)
    if root.exists() and not root.is_dir():
        raise ProjectError(f"{directory} exists and is not a directory")
    created: list[Path] = []
    try:
        return _create(root, created, admin_email, admin_password, demo, demo_posts, progress, env)
    except BaseException:
        for path in reversed(created):
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
        raise


def _make_dir(path: Path, created: list[Path]) -> None:
    missing = [p for p in (path, *path.parents) if not p.exists()]
    path.mkdir(parents=True, exist_ok=True)
    created.extend(reversed(missing))


def _create(
    root: Path,
    created: list[Path],
    admin_email: str | None,
    admin_password: str | None,
    demo: bool,
    demo_posts: int,
    progress: Callable[[int, int], None] | None,
    env: Mapping[str, str] | None,
) -> InitResult:
    from modulacms.services.maintenance import Maintenance

    _make_dir(root, created)
    config = root / CONFIG_FILE
    settings_database = load_settings(root, env=env).database_file
    if settings_database.exists():
        raise ProjectError(
            f"{settings_database} already exists but {CONFIG_FILE} does not; move the "
            "database away or write the settings file by hand"
        )
    config.write_text(render_default_toml(), encoding="utf-8")
    created.append(config)
    settings = load_settings(root, env=env)
    for folder in (settings.plugins_dir, settings.media_dir, settings.backups_dir):
        _make_dir(folder, created)
    database = settings.database_file
    created += [database, database.with_name(database.name + "-wal")]
    created += [database.with_name(database.name + "-shm")]
    Maintenance(settings).migrate()
    email = admin_email or DEFAULT_ADMIN_EMAIL
    generated = None if admin_password else secrets.token_urlsafe(15)
    summary = None
    plugins: tuple[str, ...] = ()
    with open_app(settings) as app:
        actor = Actor.system("modulacms init")
        app.services.users.create(
            email, admin_password or str(generated), actor, name="Administrator", role="admin"
        )
        if demo:
            from modulacms.services.demo import seed_demo

            summary = seed_demo(app.services, actor, posts=demo_posts, progress=progress)
    if demo:
        plugins = _copy_bundled_plugins(settings.plugins_dir)
    return InitResult(root, True, email, generated, summary, plugins)


def _copy_bundled_plugins(target: Path) -> tuple[str, ...]:
    source = bundled_plugins_dir()
    if source is None:
        return ()
    copied = []
    for plugin in sorted(source.iterdir()):
        if (plugin / "init.lua").is_file() and not (target / plugin.name).exists():
            shutil.copytree(plugin, target / plugin.name)
            copied.append(plugin.name)
    return tuple(copied)


def open_app(settings: Settings) -> App:
    """The project's database, migrated, with its services wired."""
    from modulacms.app import build_app

    return build_app(
        settings.database_file,
        versions_kept=settings.content_versions_kept,
        session_ttl=settings.auth_session_ttl,
        media_root=settings.media_dir,
    )
