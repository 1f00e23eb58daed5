"""The terminal admin (Textual): where editors build, edit and publish content.

Only this package imports ``textual``. It reaches data through ``modulacms.services``
(plus ``core``, ``config`` and ``errors``) and never imports ``modulacms.db``: every
service call runs in a worker thread and reports back with a message, so the UI never
waits on SQLite.

Entry point for the CLI::

    from modulacms.tui import run_tui
    run_tui(app.services, actor, project_name="my-site")
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from modulacms.core.models import Actor
    from modulacms.core.plugins import PluginControl
    from modulacms.services.registry import Services


def run_tui(
    services: Services,
    actor: Actor,
    *,
    project_name: str = "",
    plugins: PluginControl | None = None,
) -> None:
    """Run the terminal admin on ``services`` as ``actor`` until the user quits.

    ``plugins`` drives the Plugins area (F6); without it the area says how to switch
    plugins on. Blocks; the caller owns (and closes) the database behind ``services``.
    Textual is imported here rather than at module level so that importing this package
    stays cheap.
    """
    from modulacms.tui.app import ModulaApp

    ModulaApp(services, actor, project_name=project_name, plugins=plugins).run()
