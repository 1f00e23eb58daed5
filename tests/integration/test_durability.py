"""Concurrent revision-checked edits and crash safety, on real SQLite files."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

from modulacms.core.models import Actor
from modulacms.db.connection import Database
from modulacms.db.migrate import migrate
from modulacms.errors import Conflict
from modulacms.services.registry import Services, build_services


def test_concurrent_revision_checked_updates_lose_nothing(
    page_schema: Services, system: Actor, db: Database
) -> None:
    services = page_schema
    services.routes.create("/", system)
    node_id = services.content.create(
        "/", "page", {"title": "start", "views": 0}, system
    ).content_data_id
    successes: list[str] = []
    conflicts = 0
    lock = threading.Lock()

    def editor(number: int) -> None:
        nonlocal conflicts
        for step in range(200):
            revision = services.content.node(node_id).revision
            value = f"t{number}-{step}"
            try:
                services.content.update(node_id, {"title": value}, revision, system)
            except Conflict:
                with lock:
                    conflicts += 1
            else:
                with lock:
                    successes.append(value)

    threads = [threading.Thread(target=editor, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(successes) + conflicts == 1600
    final = services.content.item(node_id)
    assert final.node.revision == 1 + len(successes)
    updates = db.scalar(
        "SELECT count(*) FROM change_events WHERE record_id = ? AND operation = 'update'",
        (node_id,),
    )
    assert updates == len(successes)
    # the last successful write is the stored value: no write was silently overwritten
    newest = services.audit.list(system, record_id=node_id, operation="update", limit=1)[0][0]
    assert newest.new_values is not None
    assert newest.new_values["fields"]["title"] == final.values["title"]


WRITER = textwrap.dedent(
    """
    import sys
    from modulacms.app import build_app
    from modulacms.core.models import Actor

    app = build_app(sys.argv[1])
    actor = Actor.system()
    s = app.services
    s.schema.create_datatype("page", actor)
    for n in range(10):
        s.schema.create_field(f"f{n}", "text", actor)
        s.schema.attach("page", f"f{n}", actor)
    s.routes.create("/", actor)
    root = s.content.create("/", "page", {}, actor).content_data_id
    count = 0
    while True:
        values = {f"f{n}": "x" * 200 for n in range(10)}
        s.content.create("/", "page", values, actor, parent_id=root)
        count += 1
        if count == 50:
            print("ready", flush=True)
    """
)


def test_sigkill_during_creates_leaves_a_sound_database(tmp_path: Path) -> None:
    path = tmp_path / "crash.db"
    child = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "ready"
    time.sleep(0.3)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    child.stdout.close()
    db = Database(path)
    try:
        migrate(db)
        assert db.scalar("PRAGMA integrity_check") == "ok"
        assert db.scalar("PRAGMA foreign_key_check") is None
        nodes = db.scalar("SELECT count(*) FROM content_data")
        assert nodes > 50
        incomplete = db.scalar(
            "SELECT count(*) FROM content_data c WHERE c.parent_id IS NOT NULL AND (SELECT "
            "count(*) FROM content_fields f WHERE f.content_data_id = c.content_data_id) != 10"
        )
        assert incomplete == 0
        services = build_services(db)
        assert services.content.heal(Actor.system()).problems == ()
        assert services.content.tree("/").node_count == nodes
    finally:
        db.close()
