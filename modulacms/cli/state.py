"""What every command receives: the ``--project``/``--debug`` choices and, on demand, the
project, its settings and an open ``App`` (closed when the command ends)."""

from __future__ import annotations

import getpass
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import click

from modulacms.core.models import Actor, ActorKind

if TYPE_CHECKING:
    from modulacms.app import App
    from modulacms.config import Settings
    from modulacms.project import Project
    from modulacms.services.registry import Services


def cli_actor(front: str = "cli") -> Actor:
    """The actor recorded in the audit log for CLI (or TUI) changes: the OS user.

    Whoever can run the CLI on a project can read and write its database file, so the
    CLI holds every permission; the audit log still says who it was.
    """
    try:
        who = getpass.getuser()
    except (KeyError, OSError):
        who = "unknown"
    return Actor(ActorKind.SYSTEM, None, f"{front}:{who}", frozenset({"*"}))


@dataclass
class CliState:
    """Per-invocation state, stored as the click context's ``obj``."""

    project_arg: str | None
    debug: bool
    actor: Actor = field(default_factory=cli_actor)
    _project: Project | None = None
    _app: App | None = None

    def project(self, overrides: dict[str, Any] | None = None) -> Project:
        """The project (found once; ``overrides`` are flag values applied on top)."""
        if self._project is None or overrides:
            from modulacms.project import open_project

            self._project = open_project(self.project_arg, overrides=overrides)
        return self._project

    @property
    def settings(self) -> Settings:
        return self.project().settings

    def app(self) -> App:
        """The open project, closed automatically when the command finishes."""
        if self._app is None:
            from modulacms.project import open_app

            self._app = open_app(self.settings)
            click.get_current_context().call_on_close(self._close)
        return self._app

    @property
    def services(self) -> Services:
        return self.app().services

    def _close(self) -> None:
        if self._app is not None:
            self._app.close()
            self._app = None


pass_state = click.make_pass_decorator(CliState)
