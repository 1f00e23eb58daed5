"""The executor behind the Lua ``db`` module and the read side of ``core``.

:class:`PluginStore` loads the live schema catalog, asks the pure builders in
:mod:`modulacms.db.query` for statements and runs them: reads on
:meth:`Database.connection`, writes inside :meth:`Database.transaction` (so a call made
inside a plugin's ``db.transaction`` joins it as a savepoint). Rows come back as dicts
with NULL columns left out. SQLite errors become :class:`QueryRejected` (constraint
violations, bad SQL caused by plugin input), :class:`StoreError` (busy, I/O) or
:class:`PluginTimeout` (interrupted); ``define_table`` failures have ``raises=True``.

The catalog is cached under SQLite's ``schema_version``, so it is reloaded after any DDL,
in this process or another, and never trusted across a rolled-back definition.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass

import apsw

from modulacms.core.clock import now
from modulacms.core.ids import new_id
from modulacms.db.connection import Database
from modulacms.db.query import (
    CORE_POLICY,
    CoreAccess,
    CoreQueryBuilder,
    PluginQueryBuilder,
    SchemaCatalog,
    SchemaDrift,
    Statement,
    TableDefinition,
    TableSchema,
    fold,
    parse_table_definition,
    show,
    timestamp,
)
from modulacms.errors import PluginTimeout, QueryRejected, StoreError

log = logging.getLogger(__name__)

Row = dict[str, object]


@dataclass(frozen=True, slots=True)
class Columns:
    """Rows as SQLite returned them: column names and one tuple per row (NULL is None).

    What ``db.query`` hands to the plugin runtime, which builds Lua tables from the
    values directly; :meth:`as_rows` gives the dicts every other caller wants.
    """

    names: tuple[str, ...]
    rows: list[tuple[object, ...]]

    def as_rows(self) -> list[Row]:
        """Dicts per row (equal names collapse, last wins; NULLs left out)."""
        names = self.names
        return [
            {k: v for k, v in zip(names, row, strict=True) if v is not None} for row in self.rows
        ]


_COLUMNS_SQL = (
    "SELECT m.name, p.name FROM sqlite_master AS m JOIN pragma_table_info(m.name) AS p "
    "WHERE m.type = 'table' ORDER BY m.name, p.cid"
)
_REGISTER_SQL = (
    "INSERT INTO tables (table_id, label, plugin_name, short_name, date_created) "
    "VALUES (?, ?, ?, ?, ?)"
)
_REJECTED = (apsw.ConstraintError, apsw.SQLError, apsw.MismatchError, apsw.TooBigError)


def load_catalog(conn: apsw.Connection) -> SchemaCatalog:
    """Read every registered plugin table and every whitelisted core table, with columns."""
    columns: dict[str, list[str]] = {}
    for table, column in conn.execute(_COLUMNS_SQL):
        columns.setdefault(table, []).append(column)
    names = {
        fold(n): n
        for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")
    }
    tables = []
    for label, owner in conn.execute("SELECT label, plugin_name FROM tables"):
        actual = names.get(fold(label))
        if actual in columns:
            tables.append(TableSchema(actual, tuple(columns[actual]), owner))
    for core in CORE_POLICY:
        if core in columns:
            tables.append(TableSchema(core, tuple(columns[core])))
    return SchemaCatalog.of(tables, existing=names.values())


@contextmanager
def sql_errors(action: str, *, raises: bool = False) -> Iterator[None]:
    """Translate SQLite errors raised in the block into ModulaErrors naming ``action``."""
    try:
        yield
    except apsw.InterruptError as exc:
        raise PluginTimeout(f"{action}: interrupted (execution deadline)") from exc
    except (apsw.BusyError, apsw.LockedError) as exc:
        raise StoreError(f"{action}: database is busy, try again") from exc
    except apsw.ConstraintError as exc:
        raise QueryRejected(f"{action}: constraint failed: {exc}", raises=raises) from exc
    except _REJECTED as exc:
        raise QueryRejected(f"{action}: {exc}", raises=raises) from exc
    except apsw.Error as exc:
        raise StoreError(f"{action}: {exc}") from exc


def _registered_owner(conn: apsw.Connection, full_name: str) -> str | None:
    """The plugin the ``tables`` registry names as owner, even if the table is gone."""
    rows = conn.execute(
        "SELECT plugin_name FROM tables WHERE label = ? COLLATE NOCASE", (full_name,)
    ).fetchall()
    return str(rows[0][0]) if rows else None


def _check_index_columns(table: TableDefinition, actual: list[str]) -> None:
    """Index columns must exist in the table as it is, which may predate this definition.

    SQLite would otherwise read a quoted unknown name as a string literal and index a
    constant instead of failing.
    """
    present = {fold(c) for c in actual}
    for index in table.indexes:
        for column in index.columns:
            if fold(column) not in present:
                raise QueryRejected(
                    f"define_table {show(table.short_name)}: index column {show(column)} not "
                    f"found in existing table {show(table.full_name)}",
                    raises=True,
                )


def _integer(value: object) -> int:
    if not isinstance(value, int):
        raise StoreError(f"expected an integer from SQLite, got {value!r}")
    return value


def fetch(conn: apsw.Connection, statement: Statement) -> list[Row]:
    """Run a query; rows as dicts (equal names collapse, last wins; NULLs left out)."""
    names: list[str] = []

    def as_row(cursor: apsw.Cursor, values: Sequence[object]) -> Row:
        if not names:
            names.extend(d[0] for d in cursor.get_description())
        row = dict(zip(names, values, strict=True))
        return {k: v for k, v in row.items() if v is not None}

    cursor = conn.cursor()
    cursor.row_trace = as_row
    return list(cursor.execute(statement.sql, statement.params))


class PluginStore:
    """Plugin tables and gated core reads over one :class:`Database`.

    Every method takes the calling plugin's name plus the Lua arguments (converted as
    described in :mod:`modulacms.db.query`) and raises ``ModulaError`` subclasses only.
    """

    def __init__(
        self,
        db: Database,
        *,
        ids: Callable[[], str] = new_id,
        clock: Callable[[], str] = timestamp,
    ) -> None:
        self.db = db
        self._ids = ids
        self._clock = clock
        self._lock = threading.Lock()
        self._cached: tuple[int, SchemaCatalog] | None = None
        self._drift: dict[str, dict[str, list[SchemaDrift]]] = {}

    # -- catalog -------------------------------------------------------------------------

    def catalog(self) -> SchemaCatalog:
        """The schema as the calling thread's connection sees it now."""
        with sql_errors("schema catalog"):
            return self._catalog(self.db.connection())

    def _catalog(self, conn: apsw.Connection) -> SchemaCatalog:
        version = _integer(conn.execute("PRAGMA schema_version").fetchall()[0][0])
        with self._lock:
            cached = self._cached
        if cached is not None and cached[0] == version:
            return cached[1]
        catalog = load_catalog(conn)
        # Inside a transaction the version may still be rolled back and later reused
        # by a different schema, so only committed views of the schema are cached.
        if not self.db.in_transaction:
            with self._lock:
                self._cached = (version, catalog)
        return catalog

    def schema_drift(self, plugin: str) -> list[SchemaDrift]:
        """Drift found by this store's latest ``define_table`` of each of the plugin's tables."""
        return [d for entries in self._drift.get(plugin, {}).values() for d in entries]

    def _builder(self, plugin: str) -> PluginQueryBuilder:
        return PluginQueryBuilder(self.catalog(), plugin, ids=self._ids, clock=self._clock)

    def deadline(self, until: float) -> AbstractContextManager[None]:
        """Run the block's SQL under the plugin's execution deadline (spec §4.3).

        ``until`` is a ``time.monotonic()`` value. A statement still running then is
        interrupted and the store raises :class:`PluginTimeout`; so does entering after
        it. See :meth:`Database.deadline`.
        """
        return self.db.deadline(until)

    # -- DDL -----------------------------------------------------------------------------

    def define_table(self, plugin: str, name: object, definition: object) -> list[SchemaDrift]:
        """``db.define_table``: create if missing, register ownership, report drift.

        Runs in its own transaction (or as a savepoint of the caller's). Every error
        raises with ``raises=True``. Drift never fails the call; it is logged and returned.
        """
        with sql_errors(f"define_table {show(name)}", raises=True), self.db.transaction() as conn:
            catalog = self._catalog(conn)
            table = parse_table_definition(catalog, plugin, name, definition)
            registered = _registered_owner(conn, table.full_name)
            if registered is not None and registered != plugin:
                raise QueryRejected(
                    f"define_table {show(name)}: table {show(table.full_name)} is registered to "
                    f"plugin {show(registered)} (namespace isolation)",
                    raises=True,
                )
            create, *indexes = table.statements()
            conn.execute(create.sql, create.params)
            info = conn.execute("SELECT name FROM pragma_table_info(?)", (table.full_name,))
            actual = [str(r[0]) for r in info]
            _check_index_columns(table, actual)
            for statement in indexes:
                conn.execute(statement.sql, statement.params)
            if registered is None:
                conn.execute(
                    _REGISTER_SQL, (new_id(), table.full_name, plugin, table.short_name, now())
                )
        drift = table.drift(actual)
        for entry in drift:
            log.warning(
                "schema drift in plugin %s: table %s %s column %s",
                plugin,
                entry.table,
                entry.kind,
                entry.column,
            )
        self._drift.setdefault(plugin, {})[table.full_name] = drift
        return drift

    def create_index(self, plugin: str, table: object, opts: object) -> None:
        """``db.create_index``."""
        self._write(
            f"db.create_index {show(table)}", [self._builder(plugin).create_index(table, opts)]
        )

    # -- reads ---------------------------------------------------------------------------

    def query(self, plugin: str, table: object, opts: object = None) -> list[Row]:
        """``db.query``: every matching row (``[]`` when none)."""
        return self._read(f"db.query {show(table)}", self._builder(plugin).select(table, opts))

    def query_columns(self, plugin: str, table: object, opts: object = None) -> Columns:
        """``db.query`` as column names and value tuples (no dict per row)."""
        statement = self._builder(plugin).select(table, opts)
        with sql_errors(f"db.query {show(table)}"):
            cursor = self.db.connection().cursor().execute(statement.sql, statement.params)
            try:
                names = tuple(d[0] for d in cursor.get_description())
            except apsw.ExecutionCompleteError:
                return Columns((), [])  # no rows: the statement has already finished
            return Columns(names, cursor.fetchall())

    def query_one(self, plugin: str, table: object, opts: object = None) -> Row | None:
        """``db.query_one``: the first matching row or ``None``."""
        statement = self._builder(plugin).select(table, opts, one=True)
        rows = self._read(f"db.query_one {show(table)}", statement)
        return rows[0] if rows else None

    def count(self, plugin: str, table: object, opts: object = None) -> int:
        """``db.count``."""
        return self._scalar(f"db.count {show(table)}", self._builder(plugin).count(table, opts))

    def exists(self, plugin: str, table: object, opts: object = None) -> bool:
        """``db.exists``."""
        statement = self._builder(plugin).exists(table, opts)
        return bool(self._read(f"db.exists {show(table)}", statement))

    # -- writes --------------------------------------------------------------------------

    def insert(self, plugin: str, table: object, values: object) -> None:
        """``db.insert`` (``id``/``created_at``/``updated_at`` filled in when absent)."""
        self._write(f"db.insert {show(table)}", [self._builder(plugin).insert(table, values)])

    def insert_many(
        self,
        plugin: str,
        table: object,
        columns: object,
        rows: object,
        *,
        charge: Callable[[int], None] | None = None,
    ) -> int:
        """``db.insert_many``: all batches in one transaction; returns rows inserted.

        ``charge(batches)`` is called before anything runs, so the runtime can take one
        op per batch from the plugin's budget (and raise to refuse).
        """
        statements = self._builder(plugin).insert_many(table, columns, rows)
        if charge is not None:
            charge(len(statements))
        return self._write(f"db.insert_many {show(table)}", statements)

    def update(self, plugin: str, table: object, opts: object) -> int:
        """``db.update``; returns the number of rows changed."""
        return self._write(f"db.update {show(table)}", [self._builder(plugin).update(table, opts)])

    def delete(self, plugin: str, table: object, opts: object) -> int:
        """``db.delete``; returns the number of rows deleted."""
        return self._write(f"db.delete {show(table)}", [self._builder(plugin).delete(table, opts)])

    def upsert(self, plugin: str, table: object, opts: object) -> None:
        """``db.upsert``."""
        self._write(f"db.upsert {show(table)}", [self._builder(plugin).upsert(table, opts)])

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One transaction for a ``db.transaction(fn)`` body; nested calls become savepoints."""
        with sql_errors("db.transaction"), self.db.transaction():
            yield

    # -- core reads ----------------------------------------------------------------------

    def core_query(
        self, plugin: str, access: CoreAccess | None, table: object, opts: object = None
    ) -> list[Row]:
        """``core.query`` (gates of spec §5; ``users.hash`` never returned)."""
        statement = CoreQueryBuilder(self.catalog(), plugin, access).select(table, opts)
        return self._read(f"core.query {show(table)}", statement)

    def core_query_one(
        self, plugin: str, access: CoreAccess | None, table: object, opts: object = None
    ) -> Row | None:
        """``core.query_one``."""
        statement = CoreQueryBuilder(self.catalog(), plugin, access).select(table, opts, one=True)
        rows = self._read(f"core.query_one {show(table)}", statement)
        return rows[0] if rows else None

    def core_count(
        self, plugin: str, access: CoreAccess | None, table: object, opts: object = None
    ) -> int:
        """``core.count``."""
        statement = CoreQueryBuilder(self.catalog(), plugin, access).count(table, opts)
        return self._scalar(f"core.count {show(table)}", statement)

    def core_exists(
        self, plugin: str, access: CoreAccess | None, table: object, opts: object = None
    ) -> bool:
        """``core.exists``."""
        statement = CoreQueryBuilder(self.catalog(), plugin, access).exists(table, opts)
        return bool(self._read(f"core.exists {show(table)}", statement))

    # -- execution -----------------------------------------------------------------------

    def _read(self, action: str, statement: Statement) -> list[Row]:
        with sql_errors(action):
            return fetch(self.db.connection(), statement)

    def _scalar(self, action: str, statement: Statement) -> int:
        with sql_errors(action):
            rows = self.db.connection().execute(statement.sql, statement.params).fetchall()
        return _integer(rows[0][0])

    def _write(self, action: str, statements: list[Statement]) -> int:
        with sql_errors(action), self.db.transaction() as conn:
            changed = 0
            for statement in statements:
                conn.execute(statement.sql, statement.params)
                changed += conn.changes()
        return changed
