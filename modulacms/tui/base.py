"""What every area screen and service-calling modal shares: services, actor, workers.

Service calls run through :func:`start_call`: a thread worker runs the job and posts
``CallSucceeded``/``CallFailed`` back to the screen, whose handlers (here) run the
call's callbacks on the UI thread. Reads are exclusive per label (a newer load makes an
older one's result irrelevant, so it is dropped); writes always report back, and one
screen runs a single write at a time so a double key press cannot race itself into a
false conflict.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, cast

from textual.screen import ModalScreen, Screen
from textual.widget import Widget
from textual.worker import get_current_worker

from modulacms.core.models import Actor
from modulacms.errors import ModulaError
from modulacms.tui.messages import Call, CallFailed, CallSucceeded

if TYPE_CHECKING:
    from modulacms.services.registry import Services
    from modulacms.tui.app import ModulaApp


T = TypeVar("T")
R = TypeVar("R")


def _run(owner: Widget, call: Call[Any]) -> None:
    worker = get_current_worker()
    try:
        value = call.job()
    except Exception as exc:  # the UI reports it; a worker must never take the app down
        if call.write or not worker.is_cancelled:
            owner.post_message(CallFailed(call, exc))
        return
    if call.write or not worker.is_cancelled:
        owner.post_message(CallSucceeded(call, value))


class ServiceMixin:
    """Service access and worker plumbing for a screen (area or modal)."""

    _writes_in_flight: int = 0

    @property
    def modula(self) -> ModulaApp:
        return cast("ModulaApp", cast(Widget, self).app)

    @property
    def services(self) -> Services:
        return self.modula.services

    @property
    def actor(self) -> Actor:
        return self.modula.actor

    def call(
        self,
        label: str,
        job: Callable[[], T],
        done: Callable[[T], object] | None = None,
        failed: Callable[[ModulaError], bool] | None = None,
        *,
        write: bool = False,
    ) -> bool:
        """Run ``job`` in a worker; False when refused because a write is still running."""
        owner = cast(Widget, self)
        if write and self._writes_in_flight:
            owner.notify("Still working on the previous change…", severity="warning")
            return False
        call = Call(label, job, done, failed, write)
        if write:
            self._writes_in_flight += 1
        owner.run_worker(
            lambda: _run(owner, call),
            name=label,
            group=label,
            thread=True,
            exclusive=True,
            exit_on_error=False,
        )
        return True

    async def on_call_succeeded(self, message: CallSucceeded) -> None:
        message.stop()
        self._finish(message.call)
        if message.call.done is not None:
            outcome = message.call.done(message.value)
            # only coroutines: other awaitables (e.g. what dismiss() returns) must not be
            # awaited from the screen's own handler
            if inspect.iscoroutine(outcome):
                await outcome

    def on_call_failed(self, message: CallFailed) -> None:
        message.stop()
        self._finish(message.call)
        error = message.error
        if isinstance(error, ModulaError) and message.call.failed is not None:
            if message.call.failed(error):
                return
        self.modula.report_error(error, message.call.label)

    def _finish(self, call: Call[Any]) -> None:
        if call.write:
            self._writes_in_flight = max(0, self._writes_in_flight - 1)


class AreaScreen(ServiceMixin, Screen[None]):
    """The base screen of one top-level area (a mode of the app)."""

    AREA: ClassVar[str] = ""
    """The mode name, also shown highlighted in the area bar."""

    def refresh_area(self) -> None:
        """Reload what the screen shows from the services (called on resume)."""

    def on_mount(self) -> None:
        # (Textual calls every class's on_mount, so subclasses need not call this one)
        self.modula.areas[self.AREA] = self

    def has_unsaved_changes(self) -> bool:
        """True when leaving the app now would drop an editor's work."""
        return False


class ServiceModal(ServiceMixin, ModalScreen[R]):
    """A modal dialog that calls services itself (forms, pickers, lists)."""
