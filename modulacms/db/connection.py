"""SQLite connections: one serialised writer, per-thread readers, one transaction() helper.

Every connection runs in WAL mode with foreign keys on, ``synchronous=NORMAL`` and a busy
timeout. Writes go through :meth:`Database.transaction`, which takes the process-wide
writer lock and issues ``BEGIN IMMEDIATE`` so that concurrent processes queue on SQLite's
own lock instead of failing half-way. A nested ``transaction()`` on the same thread joins
the outer one through a ``SAVEPOINT``: if the inner block raises, only its work is rolled
back and the exception continues to the outer block.

Repositories call :meth:`Database.connection`, which returns the writer connection while
the calling thread is inside a transaction (so a transaction sees its own writes) and the
thread's reader connection otherwise.

:meth:`Database.deadline` bounds the SQL a thread runs (plugin code, spec §4.3): while it
is set, SQLite's progress handler is installed on the connections that thread uses and
interrupts a statement once the deadline passes (``apsw.InterruptError``). The handler is
installed only for the scope, so other queries pay nothing. An interrupted *write*
makes SQLite roll back the whole transaction; :meth:`Database.transaction` notices and
raises instead of running later statements outside the transaction it promised.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import apsw

from modulacms.errors import PluginTimeout, StoreError

Row = tuple[Any, ...]
Params = Sequence[Any] | dict[str, Any]

BUSY_TIMEOUT_MS = 10_000
# SQLite virtual-machine instructions between deadline checks: about 20 µs of work, so a
# runaway statement stops promptly while a checked statement pays about 1 % for the calls.
PROGRESS_STEPS = 2_000


def _configure(conn: apsw.Connection, *, memory: bool) -> None:
    conn.set_busy_timeout(BUSY_TIMEOUT_MS)
    # a double-quoted name that matches no column must be an error, not a string constant
    conn.config(apsw.SQLITE_DBCONFIG_DQS_DML, 0)
    conn.config(apsw.SQLITE_DBCONFIG_DQS_DDL, 0)
    if not memory:
        conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA temp_store=MEMORY")
    conn.execute("PRAGMA cache_size=-16000")


class Database:
    """A SQLite database file (or ``":memory:"``) shared by every thread of a process."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self.memory = self.path == ":memory:"
        try:
            self._writer = apsw.Connection(self.path)
            _configure(self._writer, memory=self.memory)
            self._optimize()
        except apsw.Error as exc:
            raise StoreError(f"cannot open database {self.path}: {exc}") from exc
        self._write_lock = threading.RLock()
        self._local = threading.local()
        # reader per thread; readers of finished threads are closed when the next one opens
        # (front ends such as the TUI run each call on a short-lived worker thread)
        self._readers: dict[threading.Thread, apsw.Connection] = {}
        self._readers_lock = threading.Lock()
        self._bulk_lock = threading.Lock()
        self._closed = False

    # -- connections -------------------------------------------------------------------

    def connection(self) -> apsw.Connection:
        """The connection the calling thread should use right now (see module docstring)."""
        if getattr(self._local, "depth", 0) > 0 or self.memory:
            return self._writer
        reader: apsw.Connection | None = getattr(self._local, "reader", None)
        if reader is None:
            reader = apsw.Connection(self.path, flags=apsw.SQLITE_OPEN_READWRITE)
            _configure(reader, memory=False)
            if getattr(self._local, "deadline", None) is not None:
                self._watch(reader, True)
            self._local.reader = reader
            with self._readers_lock:
                for thread in [t for t in self._readers if not t.is_alive()]:
                    self._readers.pop(thread).close()
                self._readers[threading.current_thread()] = reader
        return reader

    @contextmanager
    def bulk_read(self) -> Iterator[None]:
        """Let one thread at a time run reads that fetch many rows.

        SQLite releases the GIL around every row it steps, so a thread fetching hundreds of
        rows queues for the GIL once per row behind the other threads; with many such
        threads (a server answering previews) each hand-off stalls them all and throughput
        falls several times below one thread's. Waiting here sleeps without the GIL, so the
        thread that fetches keeps it between rows.
        """
        with self._bulk_lock:
            yield

    @property
    def in_transaction(self) -> bool:
        """True when the calling thread is inside :meth:`transaction`."""
        return getattr(self._local, "depth", 0) > 0

    @contextmanager
    def transaction(self) -> Iterator[apsw.Connection]:
        """Run the block as one write transaction; nested blocks become savepoints.

        Raises :class:`StoreError` when SQLite already rolled the transaction back (a write
        interrupted by :meth:`deadline`) and the block did not raise.
        """
        with self._write_lock:
            depth: int = getattr(self._local, "depth", 0)
            conn = self._writer
            if depth == 0:
                conn.execute("BEGIN IMMEDIATE")
                if not self.memory and getattr(self._local, "deadline", None) is not None:
                    self._watch(conn, True)
            else:
                if not conn.in_transaction:
                    raise StoreError("the enclosing transaction was already rolled back")
                conn.execute(f"SAVEPOINT sp_{depth}")
            self._local.depth = depth + 1
            try:
                yield conn
            except BaseException:
                self._local.depth = depth
                if depth == 0:
                    self._local.__dict__.pop("pending", None)
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                else:
                    self._drop_after_commit(depth)
                    if conn.in_transaction:
                        conn.execute(f"ROLLBACK TO sp_{depth}")
                        conn.execute(f"RELEASE sp_{depth}")
                raise
            finally:
                # installed at BEGIN or by deadline() inside the block; a deadline scope
                # that ended inside the block has removed it already
                if (
                    depth == 0
                    and not self.memory
                    and self._local.__dict__.get("deadline") is not None
                ):
                    self._watch(conn, False)
            self._local.depth = depth
            if not conn.in_transaction:
                self._local.__dict__.pop("pending", None)
                raise StoreError("the transaction was rolled back by an interrupted statement")
            if depth == 0:
                conn.execute("COMMIT")
            else:
                conn.execute(f"RELEASE sp_{depth}")
        if depth == 0:
            self._run_after_commit()

    @contextmanager
    def deadline(self, until: float) -> Iterator[None]:
        """Interrupt the calling thread's SQL once ``time.monotonic()`` passes ``until``.

        A statement running past it fails with ``apsw.InterruptError``; entering with the
        deadline already passed raises :class:`PluginTimeout` at once (a short statement
        could otherwise finish between two checks). Nested scopes keep the earlier
        deadline. Other threads are unaffected: the handler reads this thread's deadline.
        """
        if time.monotonic() > until:
            raise PluginTimeout("plugin execution deadline passed")
        outer: float | None = getattr(self._local, "deadline", None)
        if outer is not None and outer <= until:
            yield
            return
        self._local.deadline = until
        if outer is None:
            self._watch_thread(True)
        try:
            yield
        finally:
            self._local.deadline = outer
            if outer is None:
                self._watch_thread(False)

    def _expired(self) -> bool:
        until: float | None = getattr(self._local, "deadline", None)
        return until is not None and time.monotonic() > until

    def _watch(self, conn: apsw.Connection, on: bool) -> None:
        conn.set_progress_handler(self._expired if on else None, PROGRESS_STEPS)

    def _watch_thread(self, on: bool) -> None:
        """(Un)install the handler on the connections only this thread may use now.

        The writer is shared, so it is touched only while this thread holds the write lock
        (inside a transaction; :meth:`transaction` covers one started later). An in-memory
        database has no readers: its one connection is used like this thread's reader.
        """
        reader = self._writer if self.memory else getattr(self._local, "reader", None)
        if reader is not None:
            self._watch(reader, on)
        if not self.memory and self.in_transaction:
            self._watch(self._writer, on)

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` once the outermost transaction of this thread commits.

        Callbacks of a transaction that rolls back are dropped. Outside a transaction the
        callback runs at once. Used for after-hooks, which must never see uncommitted data.
        """
        if not self.in_transaction:
            callback()
            return
        pending: list[tuple[int, Callable[[], None]]]
        pending = self._local.__dict__.setdefault("pending", [])
        pending.append((self._local.depth, callback))

    def _run_after_commit(self) -> None:
        pending: list[tuple[int, Callable[[], None]]] = self._local.__dict__.pop("pending", [])
        for _, callback in pending:
            callback()

    def _drop_after_commit(self, depth: int) -> None:
        """Forget callbacks registered inside a savepoint that rolled back."""
        pending: list[tuple[int, Callable[[], None]]] = self._local.__dict__.get("pending", [])
        pending[:] = [(d, cb) for d, cb in pending if d <= depth]

    # -- convenience -------------------------------------------------------------------

    def execute(self, sql: str, params: Params = ()) -> list[Row]:
        """Run one statement on :meth:`connection` and return every row."""
        return list(self.connection().execute(sql, params))

    def one(self, sql: str, params: Params = ()) -> Row | None:
        """The first row of a query, or ``None``."""
        for row in self.connection().execute(sql, params):
            return tuple(row)
        return None

    def scalar(self, sql: str, params: Params = ()) -> Any:
        """The first column of the first row, or ``None``."""
        row = self.one(sql, params)
        return None if row is None else row[0]

    def data_version(self) -> int:
        """A number that changes whenever another connection commits a write.

        Used by the HTTP server to notice edits made by other processes (TUI, CLI).
        """
        return int(self.scalar("PRAGMA data_version"))

    def close(self) -> None:
        """Close every connection this object opened."""
        if self._closed:
            return
        self._closed = True
        with self._readers_lock:
            for reader in self._readers.values():
                reader.close()
            self._readers.clear()
        self._optimize()
        self._writer.close()

    def _optimize(self) -> None:
        """Refresh the query planner's statistics where SQLite thinks they are stale.

        The EAV query plans depend on them; a bounded sample keeps this to milliseconds.
        """
        try:
            self._writer.execute("PRAGMA analysis_limit=1000")
            self._writer.execute("PRAGMA optimize=0x10002")
        except apsw.BusyError:
            pass  # another process holds the lock; statistics can wait for the next open

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
