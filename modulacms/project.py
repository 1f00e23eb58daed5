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
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modulacms.config import CONFIG_FILE, Settings, load_settings
from modulacms.core.clock import now
from modulacms.errors import ProjectError

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


@contextmanager
def project_use(
    settings: Settings, kind: str, details: Mapping[str, Any] | None = None
) -> Iterator[ProjectUse]:
    """Register this process as using the project for the duration of the block.

    ``details`` (JSON-able, e.g. the server's URL) is shown by ``modulacms status``.
    Child processes forked inside the block share the lock, so the registration lasts
    until the last of them exits.
    """
    use = ProjectUse(kind, os.getpid(), now(), dict(details or {}))
    directory = _run_dir(settings)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{kind}-{use.pid}.json"
    # locked and filled under a temporary name first: a reader must never see the file
    # unlocked, or it would take it for a stale registration and delete it
    pending = path.with_suffix(".tmp")
    fd = os.open(pending, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        payload = {"kind": kind, "pid": use.pid, "started_at": use.started_at, **use.details}
        os.write(fd, json.dumps(payload).encode())
        os.replace(pending, path)
        yield use
    finally:
        with suppress(OSError):
            path.unlink()
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
