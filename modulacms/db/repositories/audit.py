"""The audit log (``change_events``)."""

from __future__ import annotations

import json
from typing import Any

from modulacms.core.clock import now
from modulacms.core.ids import new_id
from modulacms.core.models import Actor, ChangeEvent
from modulacms.db.connection import Database

_COLUMNS = (
    "event_id, actor_id, actor_kind, actor_name, table_name, record_id, operation, "
    "old_values, new_values, date_created"
)


def _dump(values: dict[str, Any] | None) -> str | None:
    return None if values is None else json.dumps(values, sort_keys=True, default=str)


def _load(text: str | None) -> dict[str, object] | None:
    return None if text is None else json.loads(text)


class AuditRepository:
    """Writes and reads ``change_events``.

    :meth:`record` must be called inside the transaction of the mutation it describes, so
    that the change and its audit row commit or roll back together.
    """

    def __init__(self, db: Database) -> None:
        self.db = db

    def record(
        self,
        actor: Actor,
        table: str,
        record_id: str,
        operation: str,
        old: dict[str, Any] | None = None,
        new: dict[str, Any] | None = None,
    ) -> str:
        """Append one event; returns its id. Raises ``RuntimeError`` outside a transaction."""
        if not self.db.in_transaction:
            raise RuntimeError("audit rows must be written inside the mutation's transaction")
        event_id = new_id()
        self.db.connection().execute(
            f"INSERT INTO change_events ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (
                event_id,
                actor.user_id,
                actor.kind.value,
                actor.name,
                table,
                record_id,
                operation,
                _dump(old),
                _dump(new),
                now(),
            ),
        )
        return event_id

    def list(
        self,
        *,
        table: str | None = None,
        record_id: str | None = None,
        actor_id: str | None = None,
        operation: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[ChangeEvent], int]:
        """Events newest first, filtered by any of the given columns; also the total."""
        clauses, params = [], []
        for column, value in (
            ("table_name", table),
            ("record_id", record_id),
            ("actor_id", actor_id),
            ("operation", operation),
        ):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        total = int(self.db.scalar(f"SELECT count(*) FROM change_events {where}", params))
        rows = self.db.execute(
            f"SELECT {_COLUMNS} FROM change_events {where} "
            "ORDER BY date_created DESC, event_id DESC LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )
        events = [
            ChangeEvent(
                event_id=r[0],
                actor_id=r[1],
                actor_kind=r[2],
                actor_name=r[3],
                table_name=r[4],
                record_id=r[5],
                operation=r[6],
                old_values=_load(r[7]),
                new_values=_load(r[8]),
                date_created=r[9],
            )
            for r in rows
        ]
        return events, total
