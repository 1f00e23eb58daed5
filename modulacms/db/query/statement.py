"""The builder's output: SQL text plus the values bound to its ``?`` placeholders."""

from __future__ import annotations

from typing import NamedTuple


class Statement(NamedTuple):
    """One SQL statement; unpacks as ``sql, params``. Values live only in ``params``."""

    sql: str
    params: list[object]
