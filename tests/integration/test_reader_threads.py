"""Reader connections of finished threads are closed, so short-lived workers do not leak."""

from __future__ import annotations

import threading

from modulacms.db.connection import Database


def test_readers_of_finished_threads_are_closed(db: Database) -> None:
    def read() -> None:
        assert db.scalar("SELECT 1") == 1

    for _ in range(20):
        worker = threading.Thread(target=read)
        worker.start()
        worker.join()
    read()  # the calling thread's reader stays open and keeps working
    assert len(db._readers) <= 2
    assert db.scalar("SELECT 2") == 2
