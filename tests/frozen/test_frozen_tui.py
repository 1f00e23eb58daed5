"""The terminal admin of the built binary, on a real pseudo-terminal of 80x24."""

from __future__ import annotations

import errno
import fcntl
import json
import os
import re
import select
import struct
import subprocess
import termios
import time

import pytest
from frozen_support import Frozen, Site

pytestmark = pytest.mark.frozen

QUIT_KEY = b"\x11"  # ctrl+q
ENTER_ALT_SCREEN = b"\x1b[?1049h"
LEAVE_ALT_SCREEN = b"\x1b[?1049l"
# CSI and OSC sequences, charset selections and single-character escapes
_ESCAPES = re.compile(
    rb"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][0-9A-Z]|\x1b."
)


def screen_text(raw: bytes) -> str:
    """What a terminal shows of ``raw``, as plain text (cursor moves dropped)."""
    return _ESCAPES.sub(b"", raw).decode("utf-8", "replace")


class Terminal:
    """A pseudo-terminal with the binary running on its slave side."""

    def __init__(self, frozen: Frozen, *args: str, rows: int = 24, cols: int = 80) -> None:
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        env = dict(frozen.env, TERM="xterm-256color", COLORTERM="truecolor")
        self.process = subprocess.Popen(
            [str(frozen.path), *args],
            cwd=frozen.workdir,
            env=env,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            start_new_session=True,
        )
        os.close(slave)
        self.output = b""

    def read(self, timeout: float) -> bool:
        """Read what arrives within ``timeout``; False once the program closed its side."""
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return True
        try:
            chunk = os.read(self.master, 65536)
        except OSError as exc:
            if exc.errno == errno.EIO:  # every slave fd is closed: the program ended
                return False
            raise
        self.output += chunk
        return bool(chunk)

    def wait_for(self, *texts: str, timeout: float = 30) -> str:
        """Read until every one of ``texts`` is on screen; the screen text."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            shown = screen_text(self.output)
            if all(text in shown for text in texts):
                return shown
            if not self.read(0.2) and self.process.poll() is not None:
                break
        pytest.fail(f"the screen never showed {texts!r}; it showed:\n{screen_text(self.output)}")

    def press(self, key: bytes) -> None:
        os.write(self.master, key)

    def wait_exit(self, timeout: float = 20) -> int:
        """Drain the terminal until the program exits; its exit code."""
        deadline = time.monotonic() + timeout
        while self.process.poll() is None and time.monotonic() < deadline:
            self.read(0.1)
        while self.read(0.05):
            pass
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
            pytest.fail(f"the program did not quit:\n{screen_text(self.output)}")
        return self.process.returncode

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        os.close(self.master)


def test_tui_draws_its_first_screen_and_quits_on_ctrl_q(frozen: Frozen, site: Site) -> None:
    draft = json.loads(frozen.run("--project", "site", "content", "tree", "/", "--json").stdout)
    home_title = draft["root"]["fields"]["title"]
    terminal = Terminal(frozen, "--project", "site")  # no command opens the TUI
    try:
        # the route list, and the home page's tree loaded by a worker
        shown = terminal.wait_for("Routes", home_title)
        assert "Traceback" not in shown
        assert ENTER_ALT_SCREEN in terminal.output
        terminal.press(QUIT_KEY)
        assert terminal.wait_exit() == 0
    finally:
        terminal.close()
    # the terminal was handed back: the alternate screen left after it was entered
    assert terminal.output.rfind(LEAVE_ALT_SCREEN) > terminal.output.find(ENTER_ALT_SCREEN)
    assert "Traceback" not in screen_text(terminal.output)
