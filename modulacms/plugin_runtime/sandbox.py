"""One sandboxed Lua VM: a PUC-Lua 5.1 runtime from lupa plus the trusted kernel.

Why Lua 5.1 (``lupa.lua51``): the original embeds gopher-lua, which has Lua 5.1
semantics (``10/2`` prints ``5``, global ``unpack``, ``getfenv``/``setfenv``), and PUC
Lua supports ``max_memory`` and count hooks. LuaJIT is never used: its count hooks do not
fire in compiled loops, so nothing could stop a plugin.

The runtime is created with ``register_eval=False``, ``register_builtins=False``,
attribute handlers that expose nothing, ``encoding=None`` (strings cross as ``bytes``, so
lupa never raises a decode error inside a callback) and a ``max_memory`` of
``limit + headroom``. ``kernel.lua`` then captures what it needs and builds the plugin
environment (see its header). Rules every host function obeys:

* it never lets an exception escape into Lua (an exception object would carry Python
  frames into the VM); :meth:`Sandbox.host_function` adapts a Python callable so that
  :class:`HostRaise` becomes a Lua error with a plain message and anything else is logged
  and reported as an internal error;
* it never returns a Python object: results go through :func:`convert.prepare`, and
  their Lua heap cost is checked against the headroom left before anything is pushed.

A ``Sandbox`` is used by one thread at a time (the pool guarantees it).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import Any

from lupa import lua51

from modulacms.errors import PluginError, PluginLoadError
from modulacms.plugin_runtime.convert import (
    ConversionError,
    LuaValue,
    RowReader,
    from_lua,
    lua_type,
    prepare,
)
from modulacms.plugin_runtime.options import SandboxLimits
from modulacms.resources import read_text

log = logging.getLogger(__name__)

KERNEL_CHUNK = b"=sandbox_kernel"
_RETURN = 0
_RAISE = 1
_TIMEOUT = 2
_SAFETY_MARGIN = 64 * 1024
MEMORY_ERROR = "not enough memory"
_ROW_SCALARS = frozenset({bytes, int, float, bool, type(None)})
_ROW_SHAPES = 8  # distinct key sets (NULL columns are left out) one bulk push takes
# upper bounds of the Lua heap a bulk push of rows takes (64-bit Lua 5.1): a row table
# with its hash part, a slot of the flat list plus the row's slot and string header
_ROW_TABLE_COST = 96
_ROW_SLOT_COST = 16 + 96 + 48
_ROW_CTOR_COST = 4096
_TIMEOUT_MESSAGE = b"plugin execution timed out: context deadline exceeded"

HostFunction = Callable[..., tuple[Any, ...] | None]
"""A Python function callable from Lua.

It receives the raw Lua arguments (``bytes``, numbers, booleans, ``None``, lupa tables
and functions) and returns a tuple of 0–2 results (plain Python data or values made by
this sandbox), or ``None`` for no results. Raise :class:`HostRaise` for a Lua error."""


class HostRaise(Exception):
    """Raised by a host function to throw a Lua error with ``message``."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class HostTimeout(HostRaise):
    """Raised by a host function when the execution's deadline passed while it worked
    (a query interrupted at the deadline): the execution ends as a timeout, not as an
    ordinary Lua error the plugin could catch."""


class ExecStatus(StrEnum):
    """How one call into plugin code ended."""

    OK = "ok"
    ERROR = "error"
    MEMORY = "memory"
    TIMEOUT = "timeout"
    BUDGET = "budget"


@dataclass(frozen=True, slots=True)
class ExecResult:
    """Outcome of :meth:`Sandbox.run`: raw Lua values (convert them with
    :meth:`Sandbox.convert`) or an error message."""

    status: ExecStatus
    values: tuple[Any, ...] = ()
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.status is ExecStatus.OK

    @property
    def first(self) -> Any:
        return self.values[0] if self.values else None


@cache
def _lua_source(name: str) -> bytes:
    return read_text("modulacms.plugin_runtime", name).encode("utf-8")


def _deny_get(obj: object, name: object) -> None:
    # Returning None rather than raising: an exception object handed to Lua would carry
    # Python frames. No Python object is ever given to plugin code; this is a backstop.
    return None


def _deny_set(obj: object, name: object, value: object) -> None:
    return None


class Sandbox:
    """A Lua 5.1 VM with the kernel loaded and the plugin environment built.

    ``name`` prefixes log lines; ``coroutines`` opens the guarded coroutine library (the
    manifest VM runs without it); ``source_loader(name)`` returns ``(source, chunkname)``
    for ``require`` or raises :class:`HostRaise`; ``print_sink`` receives ``print`` output.
    """

    def __init__(
        self,
        *,
        name: str,
        limits: SandboxLimits | None = None,
        coroutines: bool = True,
        source_loader: Callable[[str], tuple[bytes, str]] | None = None,
        print_sink: Callable[[str], None] | None = None,
    ) -> None:
        self.name = name
        self.limits = limits or SandboxLimits()
        self._tight = self.limits.memory_limit
        self._loose = self.limits.memory_limit + self.limits.memory_headroom
        self._source_loader = source_loader
        self._print_sink = print_sink
        self._armed = False
        self._budget_messages: dict[int, bytes] = {}
        self.closed = False
        self._runtime = lua51.LuaRuntime(
            encoding=None,
            register_eval=False,
            register_builtins=False,
            unpack_returned_tuples=True,
            attribute_handlers=(_deny_get, _deny_set),
            max_memory=self._loose,
        )
        self._kernel = self._boot(coroutines)
        self._run = self._kernel[b"run"]
        self._arm = self._kernel[b"arm"]
        self._disarm = self._kernel[b"disarm"]
        self._host_function = self._kernel[b"host_function"]
        self._run_once = self._kernel[b"run_once"]
        self._row_builder = self._kernel[b"row_builder"]
        self._build_rows = self._kernel[b"build_rows"]
        self._row_ctors: dict[tuple[Any, ...], Any] = {}
        self._rows: RowReader | None = RowReader(self._kernel[b"rows_flat"], self._kernel[b"slice"])
        self._keep: Any = None
        self._clean: bool | None = None
        self.modules: dict[str, Any] = {}
        self._module_table: Any = None

    # -- boot ---------------------------------------------------------------------------

    def _boot(self, coroutines: bool) -> Any:
        rt = self._runtime
        limits = self.limits
        loader = rt.eval(b"loadstring")
        chunk, err = _pad(loader(_lua_source("kernel.lua"), KERNEL_CHUNK), 2)
        if chunk is None:  # pragma: no cover - the kernel is part of the package
            raise PluginLoadError(f"sandbox kernel does not compile: {err!r}")
        host = rt.table_from(
            {
                b"clock": time.monotonic,
                b"relax": self._relax,
                b"tighten": self._tighten,
                b"print": self.host_function(self._print, "print"),
                b"source": self.host_function(self._source, "require"),
                b"stdlib": _lua_source("stdlib.lua"),
            }
        )
        config = rt.table_from(
            {
                b"interval": limits.hook_interval,
                b"short_interval": limits.short_hook_interval,
                b"big_heap_kb": limits.big_heap_bytes // 1024,
                b"max_string": limits.max_string,
                b"pattern_budget": limits.pattern_budget,
                b"find_budget": limits.find_budget,
                b"heavy_step": limits.heavy_step,
                b"limit_kb": limits.memory_limit // 1024,
            }
        )
        kernel = chunk(host, config)
        kernel[b"build_env"](coroutines)
        return kernel

    def _relax(self) -> None:
        try:
            self._runtime.set_max_memory(self._loose)
        except BaseException:  # pragma: no cover - must never raise into Lua
            pass

    def _tighten(self) -> None:
        try:
            self._runtime.set_max_memory(self._tight)
        except BaseException:  # pragma: no cover - must never raise into Lua
            pass

    def _print(self, *args: Any) -> tuple[Any, ...]:
        text = args[0] if args else b""
        if self._print_sink is not None and isinstance(text, bytes):
            self._print_sink(text.decode("utf-8", "replace"))
        return ()

    def _source(self, name: Any = None) -> tuple[Any, ...]:
        if self._source_loader is None:
            raise HostRaise("require is not available here")
        if not isinstance(name, bytes):
            raise HostRaise("bad argument #1 to 'require' (string expected)")
        source, chunk = self._source_loader(name.decode("utf-8", "replace"))
        return source, "=" + chunk

    # -- host functions and values --------------------------------------------------------

    def host_function(self, fn: HostFunction, label: str) -> Callable[..., tuple[Any, ...]]:
        """Adapt ``fn`` to the kernel's callback protocol ``(status, count, a, b)``."""

        def call(*args: Any) -> tuple[Any, ...]:
            try:
                results = fn(*args) or ()
                pushed = tuple(self.to_lua(v) for v in results[:2])
            except HostTimeout as exc:
                return (_TIMEOUT, 1, exc.message.encode("utf-8", "replace"))
            except HostRaise as exc:
                return (_RAISE, 1, exc.message.encode("utf-8", "replace"))
            except _NoRoom:
                return (_RAISE, 1, MEMORY_ERROR.encode())
            except ConversionError as exc:
                return (_RAISE, 1, str(exc).encode())
            except Exception:
                log.exception("host function %s failed in plugin %s", label, self.name)
                return (_RAISE, 1, b"internal error in host function")
            return (_RETURN, len(pushed), *pushed)

        return call

    def lua_function(self, fn: HostFunction, label: str) -> Any:
        """A Lua closure (defined in the kernel) that calls Python ``fn``."""
        return self._host_function(self.host_function(fn, label))

    def room(self) -> int:
        """Bytes the host may still push before reaching the relaxed limit."""
        used = self._runtime.get_memory_used() or 0
        return int(self._loose - used - _SAFETY_MARGIN)

    def to_lua(self, value: Any) -> Any:
        """Convert Python data to a Lua value (lupa objects of this VM pass through)."""
        if isinstance(value, bytes | int | float | bool) or value is None:
            return value
        if type(value) is list and value and type(value[0]) is dict:
            rows = self._rows_to_lua(value)
            if rows is not None:
                return rows
        if lua_type(value) is not None:
            return value
        data, cost = prepare(value)
        if cost > self.room():
            raise _NoRoom()
        if isinstance(data, dict | list):
            return self._runtime.table_from(data, recursive=True)
        return data

    def _rows_to_lua(self, rows: list[Any]) -> Any:
        """Database rows (dicts of str keys to SQLite scalars) as a Lua list of tables,
        built inside Lua from one flat list of values: one host-to-Lua conversion per
        value and none per row. None when ``rows`` does not fit that shape (the general
        path of :meth:`to_lua` then handles it)."""
        shapes: dict[tuple[Any, ...], int] = {}
        shape: list[int] = []
        values: list[Any] = []
        for row in rows:
            if type(row) is not dict:
                return None
            keys = tuple(row)
            index = shapes.get(keys)
            if index is None:
                if len(shapes) >= _ROW_SHAPES:
                    return None
                index = shapes[keys] = len(shapes) + 1
            shape.append(index)
            values.extend(row.values())
        if not all(type(k) is str for keys in shapes for k in keys):
            return None
        flat = [v.encode("utf-8", "surrogateescape") if type(v) is str else v for v in values]
        if not set(map(type, flat)) <= _ROW_SCALARS:
            return None  # a value prepare() must translate (datetime, nested data ...)
        return self._push_rows(list(shapes), shape if len(shapes) > 1 else None, flat, len(rows))

    def columns_to_lua(self, names: Sequence[str], rows: list[tuple[Any, ...]]) -> Any:
        """Rows as SQLite returned them (``names`` and one tuple of SQLite values per row)
        as a Lua list of tables; a NULL leaves its key out of that row, and equal names
        collapse (the last wins), as for dict rows."""
        if len(set(names)) != len(names):
            return self.to_lua([dict(zip(names, row, strict=True)) for row in rows])
        if not rows:
            return self._runtime.table()
        flat = [
            v.encode("utf-8", "surrogateescape") if type(v) is str else v for r in rows for v in r
        ]
        built = self._push_rows([tuple(names)], None, flat, len(rows))
        if built is None:
            return self.to_lua([dict(zip(names, row, strict=True)) for row in rows])
        return built

    def _push_rows(
        self, shapes: list[tuple[str, ...]], shape: list[int] | None, flat: list[Any], count: int
    ) -> Any:
        """Build ``count`` row tables in Lua from ``flat`` (bytes, numbers, booleans and
        None only); row ``r`` has the keys ``shapes[shape[r] - 1]`` (``shapes[0]`` for
        every row when ``shape`` is None). Raises :class:`_NoRoom` when the rows would
        not fit the VM's headroom."""
        text = sum(map(len, [v for v in flat if type(v) is bytes]))
        names = sum(len(k) for keys in shapes for k in keys)
        cost = (
            _ROW_TABLE_COST * (count + 2)
            + len(flat) * _ROW_SLOT_COST
            + text
            + names * count
            + len(shapes) * _ROW_CTOR_COST
        )
        if cost > self.room():
            raise _NoRoom()
        runtime = self._runtime
        try:
            lua_flat = runtime.table_from(flat)
        except OverflowError:
            return None  # an integer beyond 64 bits: prepare() turns it into a float
        ctors = []
        for keys in shapes:
            ctor = self._row_ctors.get(keys)
            if ctor is None:
                if len(self._row_ctors) >= 64:
                    self._row_ctors.clear()
                ctor = self._row_builder(runtime.table_from([k.encode() for k in keys]))
                self._row_ctors[keys] = ctor
            ctors.append(ctor)
        widths = runtime.table_from([len(keys) for keys in shapes])
        layout = runtime.table_from(shape) if shape is not None else None
        return self._build_rows(runtime.table_from(ctors), widths, layout, lua_flat, count)

    def table(self, data: Mapping[str, Any] | None = None) -> Any:
        """A new Lua table filled from ``data`` (converted like :meth:`to_lua`)."""
        return self.to_lua(dict(data or {}))

    # -- loading and running --------------------------------------------------------------

    def compile(self, source: bytes, chunkname: str) -> Any:
        """Compile plugin text (bytecode is refused) as a function of the plugin env."""
        if len(source) + 4096 > self.room():
            raise PluginLoadError(f"{chunkname}: source too large")
        fn, err = _pad(self._kernel[b"compile"](source, b"=" + chunkname.encode("utf-8")), 2)
        if fn is None:
            message = err.decode("utf-8", "replace") if isinstance(err, bytes) else str(err)
            raise PluginLoadError(message)
        return fn

    def trusted(self, source: str, *args: Any) -> Any:
        """Run trusted glue code (part of this package) with the kernel table and ``args``."""
        # Python callables are handed over as they are: the glue keeps them in upvalues.
        lua_args = [a if callable(a) and lua_type(a) is None else self.to_lua(a) for a in args]
        return self._kernel[b"trusted"](source.encode("utf-8"), *lua_args)

    def install_module(self, name: str, real: Any, *, freeze: bool = True) -> Any:
        """Publish Lua table ``real`` as global ``name`` (frozen unless told otherwise)."""
        value = self._kernel[b"freeze"](name.encode(), real) if freeze else real
        self._kernel[b"set_global"](name.encode(), value)
        self.modules[name] = value
        self._module_table = None
        return value

    def set_global(self, name: str, value: Any) -> None:
        self._kernel[b"set_global"](name.encode(), self.to_lua(value))

    def get_global(self, name: str) -> Any:
        return self._kernel[b"get_global"](name.encode())

    def global_type(self, name: str) -> str:
        """Lua type name of global ``name`` (read raw)."""
        return str(self._kernel[b"global_type"](name.encode()).decode())

    def convert(self, value: Any) -> LuaValue:
        """Convert a Lua value for the host, bounded by this VM's depth and size limits;
        raises :class:`PluginError` for a value beyond them (or cyclic)."""
        try:
            return from_lua(
                value,
                max_depth=self.limits.max_depth,
                max_nodes=self.limits.max_nodes,
                rows=self._rows,
            )
        except ConversionError as exc:
            raise PluginError(str(exc)) from None

    export = convert

    def _budget_message(self, budget: int) -> bytes:
        message = self._budget_messages.get(budget)
        if message is None:
            message = f"plugin exceeded its instruction budget ({budget} instructions)".encode()
            self._budget_messages[budget] = message
        return message

    def arm(self, timeout: float, instructions: int | None = None) -> None:
        """Start a checkout: a deadline ``timeout`` seconds from now and a budget."""
        budget = self.limits.instruction_limit if instructions is None else instructions
        self._arm(
            time.monotonic() + timeout, budget, _TIMEOUT_MESSAGE, self._budget_message(budget)
        )
        self._armed = True
        self._clean = None

    def disarm(self) -> None:
        self._disarm()
        self._armed = False

    @contextmanager
    def checkout(self, timeout: float, instructions: int | None = None) -> Iterator[Sandbox]:
        """``with sandbox.checkout(5.0): sandbox.run(fn, ...)``."""
        self.arm(timeout, instructions)
        try:
            yield self
        finally:
            self.disarm()

    def run(self, fn: Any, *args: Any) -> ExecResult:
        """Call plugin function ``fn`` with ``args`` under the armed checkout."""
        try:
            lua_args = [self.to_lua(a) for a in args]
        except _NoRoom:
            return ExecResult(ExecStatus.MEMORY, message=MEMORY_ERROR)
        try:
            raw = self._run(fn, *lua_args)
        except lua51.LuaError as exc:  # pragma: no cover - the kernel catches everything
            log.error("kernel call failed in plugin %s: %s", self.name, exc)
            return ExecResult(ExecStatus.ERROR, message="internal sandbox error")
        return self._outcome(raw if isinstance(raw, tuple) else (raw,))

    def run_once(
        self,
        fn: Any,
        *args: Any,
        timeout: float,
        instructions: int | None = None,
        scalars: bool = False,
    ) -> ExecResult:
        """Arm, run ``fn`` once, disarm and drop the globals the run created, all in one
        call into Lua (each such call gives up the GIL and has to win it back).

        Whether the API module bindings survived is remembered for the next
        :meth:`reset_globals` (the pool's health check on release). With ``scalars`` the
        caller vouches that ``args`` are Lua functions of this VM and bytes, numbers and
        booleans only, which cross as they are, and has checked the headroom they need."""
        try:
            lua_args = args if scalars else [self.to_lua(a) for a in args]
        except _NoRoom:
            return ExecResult(ExecStatus.MEMORY, message=MEMORY_ERROR)
        budget = self.limits.instruction_limit if instructions is None else instructions
        keep = self._keep
        try:
            raw = self._run_once(
                time.monotonic() + timeout,
                budget,
                _TIMEOUT_MESSAGE,
                self._budget_message(budget),
                keep,
                self._modules_table() if keep is not None else None,
                fn,
                *lua_args,
            )
        except lua51.LuaError as exc:  # pragma: no cover - the kernel catches everything
            log.error("kernel call failed in plugin %s: %s", self.name, exc)
            self._clean = None
            return ExecResult(ExecStatus.ERROR, message="internal sandbox error")
        self._armed = False
        self._clean = bool(raw[0]) if keep is not None else None
        return self._outcome(raw[1:])

    def _outcome(self, raw: tuple[Any, ...]) -> ExecResult:
        if self.memory_used() > self._tight * 0.75:
            # Lua 5.1 has no emergency collection: garbage left by a failed allocation
            # would make every later allocation of this VM fail too.
            self._runtime.gccollect()
        status = ExecStatus(raw[0].decode())
        if status is ExecStatus.OK:
            return ExecResult(status, tuple(raw[1:]))
        message = raw[1].decode("utf-8", "replace") if isinstance(raw[1], bytes) else ""
        return ExecResult(status, message=message)

    def call(self, source_fn: Any, *args: Any, timeout: float) -> ExecResult:
        """Arm, run once, disarm."""
        with self.checkout(timeout):
            return self.run(source_fn, *args)

    # -- health ---------------------------------------------------------------------------

    def memory_used(self) -> int:
        return int(self._runtime.get_memory_used() or 0)

    def needs_recycle(self) -> bool:
        """True when the heap stays near the limit even after a full collection."""
        threshold = self.limits.memory_limit * self.limits.recycle_ratio
        if self.memory_used() < threshold:
            return False
        self._runtime.gccollect()
        return self.memory_used() >= threshold

    def global_names(self) -> Any:
        return self._kernel[b"global_names"]()

    def _modules_table(self) -> Any:
        if self._module_table is None:
            self._module_table = self._runtime.table_from(
                {k.encode(): v for k, v in self.modules.items()}
            )
        return self._module_table

    def keep_globals(self, keep: Any) -> None:
        """The globals :meth:`run_once` keeps (the post-init snapshot)."""
        self._keep = keep

    def reset_globals(self, keep: Any) -> bool:
        """Drop globals not in ``keep``; False when an API module binding was replaced.

        Free when the last execution was a :meth:`run_once` with the same ``keep``: it
        already did this inside Lua."""
        clean = self._clean
        self._clean = None
        if clean is not None and keep is self._keep:
            return clean
        return bool(self._kernel[b"reset_globals"](keep, self._modules_table()))

    def close(self) -> None:
        """Drop every reference so that lupa closes the Lua state."""
        self.closed = True
        self.modules.clear()
        self._module_table = None
        self._kernel = None
        self._run = self._arm = self._disarm = self._host_function = self._run_once = None
        self._row_builder = self._build_rows = None
        self._row_ctors.clear()
        self._rows = None


def _pad(result: Any, n: int) -> tuple[Any, ...]:
    """Lua multiple results as a tuple of exactly ``n`` values."""
    values = result if isinstance(result, tuple) else (result,)
    return (values + (None,) * n)[:n]


class _NoRoom(Exception):
    """A value would not fit into the VM's headroom."""
