"""Logging set-up for each way ModulaCMS runs; the only place that attaches handlers.

``cli``    warnings and errors on stderr (everything with ``--debug``), short lines
           because the command's own output is what the user reads.
``serve``  the configured level on stderr with timestamps, for service managers.
``tui``    the configured level to the project's log file: the TUI never prints.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import TextIO

LOGGER = "modulacms"
_MODES = ("cli", "tui", "serve")
_FORMATS = {
    "cli": "modulacms: %(levelname)s: %(message)s",
    "serve": "%(asctime)s %(levelname)s %(name)s: %(message)s",
    "tui": "%(asctime)s %(levelname)s %(name)s: %(message)s",
}


class _CurrentStderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the time of the call.

    Test runners and click's CliRunner swap ``sys.stderr``; a handler holding on to the
    stream it was created with would write into a closed buffer afterwards.
    """

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        return None


def configure_logging(
    mode: str,
    *,
    level: str = "info",
    debug: bool = False,
    log_file: Path | None = None,
) -> logging.Logger:
    """Attach the handler for ``mode`` to the ``modulacms`` logger, replacing earlier ones.

    ``level`` is the configured level (``Settings.logging_level``); ``debug`` forces
    DEBUG. ``tui`` mode needs ``log_file``. Returns the ``modulacms`` logger.
    """
    if mode not in _MODES:
        raise ValueError(f"unknown logging mode {mode!r}")
    logger = logging.getLogger(LOGGER)
    for old in list(logger.handlers):
        logger.removeHandler(old)
        old.close()
    handler: logging.Handler
    if mode == "tui":
        if log_file is None:
            raise ValueError("tui logging needs a log file")
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(log_file, encoding="utf-8")
    else:
        handler = _CurrentStderr()
    handler.setFormatter(logging.Formatter(_FORMATS[mode]))
    logger.addHandler(handler)
    # the CLI prints its own results: only trouble should reach stderr besides them
    chosen = "warning" if mode == "cli" else level
    logger.setLevel(logging.DEBUG if debug else getattr(logging, chosen.upper()))
    logger.propagate = False
    return logger
