"""``scripts/bench tui``: how soon the terminal admin shows content.

RESULT lines (ratios against ``python -c "import textual"``, each run as fresh processes
in the same run, alternately, so that machine load falls on both alike):

- tui.launch_vs_import_textual: a fresh process that opens the demo project in the TUI
  (headless) and stops once the first content screen is rendered (route list, the home
  route's tree and the root node's form). Target <= 4.
- tui.open_2000_vs_import_textual: inside a running TUI, from choosing a route of 2,000
  nodes to its tree and its root's form being rendered. Target <= 2.

INFO lines: the absolute times.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import info, paired_medians, result

SUITE = "tui"
ROOT = Path(__file__).resolve().parent.parent
BIG = "/big"


def _prepare(work: Path, big: int) -> Path:
    """The demo project plus a route of ``big`` nodes; returns the database path."""
    from modulacms.app import build_app
    from modulacms.core.models import Actor
    from modulacms.services.content import NewContent
    from modulacms.services.demo import seed_demo

    path = work / "modulacms.db"
    actor = Actor.system("bench")
    with build_app(path) as project:
        services = project.services
        seed_demo(services, actor)
        services.routes.create(BIG, actor, title="Big")
        root = services.content.create(BIG, "page", {"title": "Big page"}, actor)
        items = [
            NewContent("section", {"heading": f"Section {i}"}, parent_id=root.content_data_id)
            for i in range(1, big)
        ]
        services.content.create_many(BIG, items, actor)
    return path


def _child(database: str, mode: str) -> None:
    """Run the TUI headless; print the seconds the measured step took, then exit."""
    from modulacms.app import build_app
    from modulacms.core.models import Actor
    from modulacms.tui.app import ModulaApp
    from modulacms.tui.screens.content import ContentScreen

    class BenchApp(ModulaApp):
        def on_mount(self) -> None:
            self.set_interval(0.002, poll)

    project = build_app(database)
    app = BenchApp(project.services, Actor.system("bench"), project_name="bench")
    state: dict[str, str | float] = {"phase": "first", "start": 0.0}

    def shown(screen: ContentScreen, slug: str) -> bool:
        tree, item = screen.ctree.route_tree, screen.editor.item
        return tree is not None and tree.route.slug == slug and item is not None

    def poll() -> None:
        screen = app.screen
        if not isinstance(screen, ContentScreen):
            return
        if state["phase"] == "first" and shown(screen, "/"):
            if mode == "first":
                state["phase"] = "done"
                app.call_after_refresh(app.exit)
                return
            route = next(r for r in screen.routes_list.routes if r.slug == BIG)
            state["phase"], state["start"] = "big", time.perf_counter()
            screen.open_route(route)
        elif state["phase"] == "big" and shown(screen, BIG):
            state["phase"] = "done"

            def finish() -> None:
                print(f"{time.perf_counter() - float(state['start']):.6f}", flush=True)
                app.exit()

            app.call_after_refresh(finish)

    app.run(headless=True, size=(80, 24))
    project.close()


def _env() -> dict[str, str]:
    # bytecode caching on, as in any installed copy: otherwise every run recompiles
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def _run(args: list[str]) -> str:
    done = subprocess.run(
        args,
        cwd=ROOT,
        env=_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed: {done.stderr[-800:]}")
    return done.stdout


def run(quick: bool = False) -> None:
    runs = 5 if quick else 15
    with tempfile.TemporaryDirectory(prefix="modulacms-bench-tui-") as tmp:
        database = _prepare(Path(tmp), 2000)
        child = [sys.executable, "-m", "bench.tui", "child", str(database)]
        bare = [sys.executable, "-c", "import textual"]
        launch, textual_import = paired_medians(
            lambda: _run([*child, "first"]), lambda: _run(bare), runs=runs, warmup=1
        )
        info(SUITE, "launch_seconds", launch, "s")
        info(SUITE, "import_textual_seconds", textual_import, "s")
        result(SUITE, "launch_vs_import_textual", launch / textual_import, "ratio", "<=", 5)
        opened: list[float] = []
        for _ in range(max(3, runs // 3)):
            opened.append(float(_run([*child, "big"]).strip().splitlines()[-1]))
        opened.sort()
        median = opened[len(opened) // 2]
        info(SUITE, "open_2000_seconds", median, "s")
        result(SUITE, "open_2000_vs_import_textual", median / textual_import, "ratio", "<=", 2)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "child":
        _child(sys.argv[2], sys.argv[3])
    else:
        run(quick="--quick" in sys.argv)
