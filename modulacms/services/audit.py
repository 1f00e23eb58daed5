"""Reading the audit log (rows are written by each service inside its own transaction)."""

from __future__ import annotations

from modulacms.core.models import Actor, ChangeEvent
from modulacms.db.repositories.audit import AuditRepository

MAX_PAGE = 500


class AuditService:
    """The change log, newest first."""

    def __init__(self, repo: AuditRepository) -> None:
        self.repo = repo

    def list(
        self,
        actor: Actor,
        *,
        table: str | None = None,
        record_id: str | None = None,
        actor_id: str | None = None,
        operation: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[ChangeEvent], int]:
        """One page of events and the total matching; needs ``audit:read``."""
        actor.require("audit:read")
        return self.repo.list(
            table=table,
            record_id=record_id,
            actor_id=actor_id,
            operation=operation,
            limit=max(1, min(limit, MAX_PAGE)),
            offset=max(0, offset),
        )
