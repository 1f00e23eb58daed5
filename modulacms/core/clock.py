"""Timestamps: RFC 3339 UTC text with millisecond precision, e.g. ``2026-01-01T00:00:00.000Z``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def now() -> str:
    """The current UTC time as RFC 3339 text."""
    return format_ts(datetime.now(UTC))


def format_ts(moment: datetime) -> str:
    """Render an aware datetime as RFC 3339 UTC text (naive ones are taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_ts(text: str) -> datetime:
    """Parse RFC 3339 text (``Z`` or an offset, optional fraction) into an aware datetime.

    Raises ``ValueError`` for anything else.
    """
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError(f"timestamp {text!r} has no time zone")
    return moment.astimezone(UTC)


def ago(seconds: float) -> str:
    """RFC 3339 text for ``seconds`` before now."""
    return format_ts(datetime.now(UTC) - timedelta(seconds=seconds))
