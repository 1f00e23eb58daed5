"""Messages that cross widgets and carry service results back to the UI thread."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from textual.message import Message

from modulacms.core.models import Route
from modulacms.errors import ModulaError

T = TypeVar("T")


@dataclass(frozen=True, eq=False)
class Call(Generic[T]):
    """One service call to run in a worker thread.

    ``job`` runs off the UI thread; ``done`` receives its result on the UI thread.
    ``failed`` may handle a ``ModulaError`` (returning True when it did); anything it
    leaves is shown by the app's single error reporter. ``write`` calls are never dropped
    as superseded, and a screen runs one of them at a time.
    """

    label: str
    job: Callable[[], T]
    done: Callable[[T], object] | None = None
    failed: Callable[[ModulaError], bool] | None = None
    write: bool = False


class CallSucceeded(Message):
    """A service call finished in its worker; ``value`` is what it returned."""

    def __init__(self, call: Call[Any], value: Any) -> None:
        super().__init__()
        self.call = call
        self.value = value


class CallFailed(Message):
    """A service call raised; ``error`` is the exception (a ``ModulaError`` or a bug)."""

    def __init__(self, call: Call[Any], error: BaseException) -> None:
        super().__init__()
        self.call = call
        self.error = error


@dataclass
class RouteChosen(Message):
    """The editor picked a route in the route list."""

    route: Route


@dataclass
class FormChanged(Message):
    """A field editor's value changed (the form may have become dirty or clean)."""

    dirty: bool
