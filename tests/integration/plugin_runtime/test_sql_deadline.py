"""Plugin SQL runs under the execution deadline (spec §4.3): a runaway statement is
interrupted by SQLite's progress handler, the plugin gets the error, and the connection
and the writer stay usable. First the :meth:`Database.deadline` mechanics on a real
database file, then the ``sql_deadline_plugin`` fixture behind the real HTTP server."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import apsw
import pytest
from plugin_helpers import PLUGINS, run_in

from modulacms.app import App, build_app
from modulacms.db.connection import Database
from modulacms.errors import PluginTimeout, StoreError
from modulacms.http.handlers.plugins import plugin_api
from modulacms.http.options import ServerOptions
from modulacms.http.runner import build_server
from modulacms.http.testing import Client, Reply, wait_until_up
from modulacms.plugin_runtime.options import RuntimeOptions
from modulacms.plugin_runtime.runtime import PluginRuntime
from modulacms.plugin_runtime.sandbox import ExecStatus

# Counting to a billion takes SQLite minutes: only an interruption ends it in time.
RUNAWAY = (
    "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 1000000000) "
    "SELECT max(n) FROM r"
)
RUNAWAY_INSERT = (
    "INSERT INTO t (x) WITH RECURSIVE r(n) AS "
    "(SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 1000000000) SELECT n FROM r"
)
# about a tenth of a second of work
MODEST = (
    "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 300000) "
    "SELECT max(n) FROM r"
)


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    with Database(tmp_path / "deadline.db") as db:
        with db.transaction() as conn:
            conn.execute("CREATE TABLE t (x INTEGER)")
        yield db


def soon(seconds: float = 0.2) -> float:
    return time.monotonic() + seconds


def test_a_runaway_read_is_interrupted_and_the_reader_stays_usable(database: Database) -> None:
    started = time.monotonic()
    with pytest.raises(apsw.InterruptError), database.deadline(soon()):
        database.execute(RUNAWAY)
    assert time.monotonic() - started < 5
    # the same reader answers again, and without a deadline nothing interrupts it
    assert database.scalar(MODEST) == 300000
    with database.deadline(soon(30)):
        assert database.scalar("SELECT count(*) FROM t") == 0


def test_entering_after_the_deadline_raises_at_once(database: Database) -> None:
    with pytest.raises(PluginTimeout, match="deadline passed"):
        with database.deadline(time.monotonic() - 0.001):
            database.execute("SELECT 1")


def test_a_nested_scope_keeps_the_earlier_deadline(database: Database) -> None:
    with database.deadline(soon(0.2)):
        with pytest.raises(apsw.InterruptError), database.deadline(soon(60)):
            database.execute(RUNAWAY)
        # the inner scope ended; the outer deadline still applies
        with pytest.raises(apsw.InterruptError):
            database.execute(RUNAWAY)


def test_other_threads_are_not_interrupted(database: Database) -> None:
    results: list[object] = []

    def other() -> None:
        time.sleep(0.05)
        results.append(database.scalar(MODEST))

    thread = threading.Thread(target=other)
    with database.deadline(soon(0.1)):
        thread.start()
        with pytest.raises(apsw.InterruptError):
            database.execute(RUNAWAY)
        thread.join(10)
    assert results == [300000]


def test_an_interrupted_read_leaves_the_transaction_intact(database: Database) -> None:
    with database.transaction() as conn:
        conn.execute("INSERT INTO t VALUES (1)")
        with pytest.raises(apsw.InterruptError), database.deadline(soon()):
            database.execute(RUNAWAY)
        conn.execute("INSERT INTO t VALUES (2)")
    assert database.execute("SELECT x FROM t ORDER BY x") == [(1,), (2,)]


def test_an_interrupted_write_rolls_back_and_the_writer_is_free_again(database: Database) -> None:
    with pytest.raises(apsw.InterruptError), database.deadline(soon()):
        with database.transaction() as conn:
            conn.execute("INSERT INTO t VALUES (1)")
            conn.execute(RUNAWAY_INSERT)
    assert not database.in_transaction
    assert database.scalar("SELECT count(*) FROM t") == 0
    written = threading.Event()

    def writer() -> None:
        with database.transaction() as conn:
            conn.execute("INSERT INTO t VALUES (7)")
        written.set()

    thread = threading.Thread(target=writer)
    thread.start()
    thread.join(10)
    assert written.is_set()
    assert database.execute("SELECT x FROM t") == [(7,)]


def test_a_swallowed_interrupt_cannot_commit_half_a_transaction(database: Database) -> None:
    with pytest.raises(StoreError, match="rolled back by an interrupted statement"):
        with database.transaction() as conn:
            conn.execute("INSERT INTO t VALUES (1)")
            try:
                with database.deadline(soon()), database.transaction() as inner:
                    inner.execute(RUNAWAY_INSERT)
            except apsw.InterruptError:
                pass
            # SQLite already rolled everything back: a savepoint must not start anew
            with pytest.raises(StoreError, match="already rolled back"):
                with database.transaction():
                    pass
    assert database.scalar("SELECT count(*) FROM t") == 0
    with database.transaction() as conn:
        conn.execute("INSERT INTO t VALUES (3)")
    assert database.execute("SELECT x FROM t") == [(3,)]


# -- the fixture plugin behind the real server -----------------------------------------


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[App, PluginRuntime, Client]]:
    app = build_app(tmp_path / "site.db")
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    shutil.copytree(PLUGINS / "sql_deadline_plugin", plugins / "sql_deadline_plugin")
    options = RuntimeOptions(max_vms=2, sync_interval=0, timeout=0.5)
    runtime = PluginRuntime(app.db, app.services, plugins, options).start()
    app.plugins = runtime
    runtime.approvals.set_all_routes("sql_deadline_plugin", True, "test")
    runtime.manager.refresh_approvals(force=True)
    server = build_server(
        app.services,
        replace(ServerOptions(access_log=None), host="127.0.0.1", port=0),
        apis=[plugin_api(runtime)],
    )
    server.start()
    wait_until_up("127.0.0.1", server.port)
    client = Client("127.0.0.1", server.port)
    try:
        yield app, runtime, client
    finally:
        client.close()
        server.stop(grace=5.0)
        runtime.close()
        app.close()


BASE = "/api/v1/plugins/sql_deadline_plugin"


def assert_stopped_by_deadline(reply: Reply, caplog: pytest.LogCaptureFixture) -> None:
    """The interrupted query ended the execution as a timeout: 504, the reason logged,
    not sent."""
    assert (reply.status, reply.json()["error"]["code"]) == (504, "HANDLER_TIMEOUT")
    assert b"interrupted" not in reply.body
    assert "execution deadline" in caplog.text


def test_the_plugin_sees_the_interrupted_query_as_an_error(served) -> None:  # type: ignore[no-untyped-def]
    _, runtime, _ = served
    instance = runtime.manager.instance("sql_deadline_plugin")
    started = time.monotonic()
    result = run_in(instance, "return runaway()", timeout=0.3)
    assert time.monotonic() - started < 5
    assert result.status is ExecStatus.TIMEOUT
    assert 'db.query "rows_a": interrupted (execution deadline)' in result.message
    # the interrupt ends the execution like the deadline itself: pcall cannot catch it
    swallowed = run_in(instance, "pcall(runaway) return 'went on'", timeout=0.3)
    assert swallowed.status is ExecStatus.TIMEOUT
    again = run_in(instance, "return db.count('rows_a')", timeout=2.0)
    assert again.ok and again.values == (1000,)


def test_a_runaway_route_ends_with_the_deadline_and_the_next_request_works(served, caplog) -> None:  # type: ignore[no-untyped-def]
    _, _, client = served
    started = time.monotonic()
    reply = client.get(f"{BASE}/runaway")
    assert time.monotonic() - started < 5
    assert_stopped_by_deadline(reply, caplog)
    for _ in range(3):  # every VM and its reader connection still serve
        reply = client.get(f"{BASE}/quick")
        assert reply.status == 200 and reply.json() == {"a": 1000, "notes": 0}


def test_a_runaway_query_inside_db_transaction_rolls_it_back(served, caplog) -> None:  # type: ignore[no-untyped-def]
    app, _, client = served
    reply = client.post(f"{BASE}/runaway-in-transaction", {})
    if reply.status == 200:
        # db.transaction reports the rollback (spec §4.7) and the handler returned it
        # before the sandbox noticed the deadline
        assert reply.json() == {
            "ok": False,
            "error": 'db.query "rows_a": interrupted (execution deadline)',
        }
    else:
        assert_stopped_by_deadline(reply, caplog)
    assert client.get(f"{BASE}/quick").json() == {"a": 1000, "notes": 0}
    # the writer lock was released: the CMS and the plugin can both write again
    assert not app.db.in_transaction
    with app.db.transaction() as conn:
        conn.execute(
            "INSERT INTO plugin_sql_deadline_plugin_notes (id, body, created_at, updated_at) "
            "VALUES ('n1', 'from the host', '2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z')"
        )
    assert client.get(f"{BASE}/quick").json() == {"a": 1000, "notes": 1}
