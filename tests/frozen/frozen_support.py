"""Helpers for the tests of the built binary (marker ``frozen``, run by scripts/build).

The binary under test is ``$MODULACMS_BINARY`` or ``dist/modulacms``. It is copied alone
into a temporary folder and run from an empty working folder with a bare environment:
no virtualenv, no source tree, no ``PYTHONPATH``, a home and an unpack cache of its own.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "frozen binary test password"


def built_binary() -> Path:
    """The file scripts/build wrote (or the one MODULACMS_BINARY names)."""
    path = Path(os.environ.get("MODULACMS_BINARY") or ROOT / "dist" / "modulacms")
    if not path.is_file():
        pytest.fail(f"{path} does not exist: build it first with scripts/build")
    return path


def bare_env(home: Path, **extra: str) -> dict[str, str]:
    """An environment with nothing of the developer's Python setup in it."""
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "TMPDIR": str(home / "tmp"),
    }
    (home / "tmp").mkdir(parents=True, exist_ok=True)
    env.update(extra)
    return env


@dataclass
class Frozen:
    """The copied binary, with the folders and environment it runs in."""

    path: Path
    home: Path
    cache: Path
    workdir: Path
    env: dict[str, str] = field(default_factory=dict)

    def run(
        self,
        *args: str,
        cwd: Path | None = None,
        check: bool = True,
        timeout: float = 60,
        input: str | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run the binary to completion; ``check`` demands exit code 0."""
        done = subprocess.run(
            [str(self.path), *args],
            cwd=cwd or self.workdir,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            input=input,
        )
        if check and done.returncode != 0:
            pytest.fail(
                f"`modulacms {' '.join(args)}` exited {done.returncode}\n"
                f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"
            )
        return done

    def popen(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        """Start the binary in the background, stdout and stderr piped (the caller stops it)."""
        return subprocess.Popen(
            [str(self.path), *args],
            cwd=self.workdir,
            env=env or self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )


@dataclass(frozen=True)
class Site:
    """The demo project ``init --demo`` created, and what init printed."""

    root: Path
    init: subprocess.CompletedProcess[str]
