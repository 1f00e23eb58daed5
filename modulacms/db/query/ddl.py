"""``db.define_table`` and ``db.create_index``: table definitions to DDL (spec §4.2).

Every rejection in :func:`parse_table_definition` raises (``QueryRejected.raises`` is true),
as ``define_table`` does in the original. Beyond the original, a table name owned by another
plugin in the ``tables`` registry is refused (plugin ``a_b`` + table ``c`` and plugin ``a`` +
table ``b_c`` both spell ``plugin_a_b_c``), an existing table that no plugin registered is
never adopted, and a foreign key may only point at a table of the same plugin: one it owns,
the table being defined, or a not-yet-defined name that no other plugin could ever own.

``DEFAULT`` values are the one place a value is written into SQL text: only strings and
numbers, single-quoted with quotes doubled, NUL refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from modulacms.errors import QueryRejected

from .conditions import as_sequence, int_key, is_table, lua_type
from .identifiers import (
    SchemaCatalog,
    fold,
    full_table_name,
    identifier_problem,
    quote,
    show,
    table_prefix,
)
from .statement import Statement

COLUMN_TYPES = {
    "text": "TEXT",
    "integer": "INTEGER",
    "real": "REAL",
    "blob": "BLOB",
    "boolean": "INTEGER",
    "timestamp": "TEXT",
    "json": "TEXT",
}
AUTO_COLUMNS = ("id", "created_at", "updated_at")
MAX_COLUMNS = 64
ON_DELETE_ACTIONS = ("CASCADE", "SET NULL", "RESTRICT")


@dataclass(frozen=True, slots=True)
class ColumnDef:
    name: str
    sql_type: str
    not_null: bool = False
    unique: bool = False
    default: str | None = None
    primary_key: bool = False


@dataclass(frozen=True, slots=True)
class ForeignKey:
    column: str
    ref_table: str
    ref_column: str
    on_delete: str = ""


@dataclass(frozen=True, slots=True)
class IndexDef:
    columns: tuple[str, ...]
    unique: bool = False


@dataclass(frozen=True, slots=True)
class SchemaDrift:
    """A column the definition expects but the table lacks (``missing``) or the reverse."""

    table: str
    kind: str  # "missing" | "extra"
    column: str


@dataclass(frozen=True, slots=True)
class TableDefinition:
    """A validated ``define_table`` call, ready to render."""

    plugin: str
    short_name: str
    full_name: str
    columns: tuple[ColumnDef, ...]
    indexes: tuple[IndexDef, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def statements(self) -> list[Statement]:
        """``CREATE TABLE IF NOT EXISTS`` followed by one ``CREATE INDEX`` per index."""
        lines = [_column_sql(c) for c in self.columns]
        for fk in self.foreign_keys:
            action = f" ON DELETE {fk.on_delete}" if fk.on_delete else ""
            lines.append(
                f"FOREIGN KEY ({quote(fk.column)}) REFERENCES {quote(fk.ref_table)} "
                f"({quote(fk.ref_column)}){action}"
            )
        body = ",\n    ".join(lines)
        create = f"CREATE TABLE IF NOT EXISTS {quote(self.full_name)} (\n    {body}\n)"
        indexes = [index_statement(self.full_name, i.columns, i.unique) for i in self.indexes]
        return [Statement(create, []), *indexes]

    def drift(self, actual: list[str]) -> list[SchemaDrift]:
        """Compare the expected column names with the table's actual ones."""
        expected = {fold(c): c for c in self.column_names}
        present = {fold(c): c for c in actual}
        missing = [
            SchemaDrift(self.full_name, "missing", c)
            for k, c in expected.items()
            if k not in present
        ]
        extra = [
            SchemaDrift(self.full_name, "extra", c) for k, c in present.items() if k not in expected
        ]
        return missing + extra


def index_name(table: str, columns: tuple[str, ...]) -> str:
    """``idx_<fulltable>_<c1>_<c2>...``, as the original names them."""
    return "_".join(("idx", table, *columns))


def index_statement(table: str, columns: tuple[str, ...], unique: bool) -> Statement:
    """``CREATE [UNIQUE] INDEX IF NOT EXISTS`` over already validated names."""
    kind = "UNIQUE INDEX" if unique else "INDEX"
    cols = ", ".join(quote(c) for c in columns)
    name = quote(index_name(table, columns))
    return Statement(f"CREATE {kind} IF NOT EXISTS {name} ON {quote(table)} ({cols})", [])


def _column_sql(column: ColumnDef) -> str:
    parts = [quote(column.name), column.sql_type]
    if column.not_null:
        parts.append("NOT NULL")
    if column.primary_key:
        parts.append("PRIMARY KEY")
    elif column.unique:
        parts.append("UNIQUE")
    if column.default is not None:
        parts.append("DEFAULT '" + column.default.replace("'", "''") + "'")
    return " ".join(parts)


def _fail(message: str) -> QueryRejected:
    return QueryRejected(message, raises=True)


def _entries(table: object) -> list[object]:
    """Every value of a Lua table: the sequence part first, then the other keys."""
    rest = []
    if isinstance(table, Mapping):
        rest = [v for k, v in table.items() if int_key(k) is None]
    return as_sequence(table) + rest


def parse_table_definition(
    catalog: SchemaCatalog, plugin: str, name: object, definition: object
) -> TableDefinition:
    """Validate a ``db.define_table(name, def)`` call; every problem raises."""
    if name == "":
        raise _fail("table name cannot be empty")
    full = full_table_name(plugin, name, raises=True)
    assert isinstance(name, str)
    columns_value = definition.get("columns") if isinstance(definition, Mapping) else None
    if not is_table(columns_value):
        raise _fail("definition must include a 'columns' table")
    assert isinstance(definition, Mapping)
    user_columns = [_parse_column(entry) for entry in _entries(columns_value)]
    if not user_columns:
        raise _fail("columns cannot be empty")
    columns = (
        ColumnDef("id", "TEXT", not_null=True, primary_key=True),
        *user_columns,
        ColumnDef("created_at", "TEXT", not_null=True),
        ColumnDef("updated_at", "TEXT", not_null=True),
    )
    table = TableDefinition(
        plugin,
        name,
        full,
        columns,
        tuple(_parse_index(e) for e in _entries(definition.get("indexes"))),
        tuple(
            _parse_foreign_key(e, table_prefix(plugin))
            for e in _entries(definition.get("foreign_keys"))
        ),
    )
    _validate(table)
    _check_namespace(catalog, table)
    return table


def _parse_column(entry: object) -> ColumnDef:
    if not isinstance(entry, Mapping):
        raise _fail(f"each column must be a table, got {lua_type(entry)}")
    name = entry.get("name")
    if not isinstance(name, str):
        raise _fail("column missing required 'name' field")
    if name in AUTO_COLUMNS:
        raise _fail(f"column {show(name)} is auto-injected and cannot be defined manually")
    problem = identifier_problem(name, "column")
    if problem:
        raise _fail(f"invalid column name {show(name)}: {problem}")
    kind = entry.get("type")
    if not isinstance(kind, str):
        raise _fail(f"column {show(name)} missing required 'type' field")
    if kind not in COLUMN_TYPES:
        raise _fail(
            f"column {show(name)}: invalid column type {show(kind)}: must be one of "
            "text, integer, real, blob, boolean, timestamp, json"
        )
    return ColumnDef(
        name,
        COLUMN_TYPES[kind],
        not_null=entry.get("not_null") is True,
        unique=entry.get("unique") is True,
        default=_default(name, entry.get("default")),
    )


def _default(column: str, value: object) -> str | None:
    """A DEFAULT as text: strings and numbers only (numbers like Lua's tostring)."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**63:
        text = str(int(value))
    else:
        text = str(value) if isinstance(value, str | int) else repr(value)
    if "\x00" in text:
        raise _fail(f"default value of column {show(column)} cannot contain NUL")
    return text or None


def _parse_index(entry: object) -> IndexDef:
    if not is_table(entry):
        raise _fail(f"each index must be a table, got {lua_type(entry)}")
    columns = entry.get("columns") if isinstance(entry, Mapping) else None
    if not is_table(columns):
        raise _fail("index missing required 'columns' field")
    names = []
    for column in _entries(columns):
        if not isinstance(column, str):
            raise _fail(f"index column name must be a string, got {lua_type(column)}")
        names.append(column)
    if not names:
        raise _fail("index columns cannot be empty")
    assert isinstance(entry, Mapping)
    return IndexDef(tuple(names), entry.get("unique") is True)


def _parse_foreign_key(entry: object, prefix: str) -> ForeignKey:
    if not isinstance(entry, Mapping):
        raise _fail(f"each foreign_key must be a table, got {lua_type(entry)}")
    fields = {}
    for key in ("column", "ref_table", "ref_column"):
        value = entry.get(key)
        if not isinstance(value, str):
            raise _fail(f"foreign_key missing required '{key}' field")
        fields[key] = value
        if key == "ref_table" and not value.startswith(prefix):
            raise _fail(
                f"foreign_key ref_table {show(value)} must start with plugin prefix "
                f"{show(prefix)} (namespace isolation)"
            )
    on_delete = entry.get("on_delete")
    action = on_delete.upper() if isinstance(on_delete, str) else ""
    return ForeignKey(fields["column"], fields["ref_table"], fields["ref_column"], action)


def _validate(table: TableDefinition) -> None:
    if len(table.columns) > MAX_COLUMNS:
        raise _fail(f"create table: too many columns: {len(table.columns)} (max {MAX_COLUMNS})")
    seen: dict[str, str] = {}
    for column in table.columns:
        if fold(column.name) in seen:
            raise _fail(f"create table: duplicate column name {show(column.name)}")
        seen[fold(column.name)] = column.name
    for fk in table.foreign_keys:
        _check_name(fk.column, "column", "invalid FK column")
        if fold(fk.column) not in seen:
            raise _fail(
                f"create table: FK column {show(fk.column)} not found in column definitions"
            )
        _check_name(fk.ref_table, "table", "invalid FK reference table")
        _check_name(fk.ref_column, "column", "invalid FK reference column")
        if fk.on_delete and fk.on_delete not in ON_DELETE_ACTIONS:
            raise _fail(
                f"create table: invalid FK ON DELETE action {show(fk.on_delete)}: must be one "
                "of CASCADE, SET NULL, RESTRICT"
            )
    for index in table.indexes:
        for name in index.columns:
            _check_name(name, "column", "invalid index column")
            if fold(name) not in seen:
                raise _fail(
                    f"create table: index column {show(name)} not found in column definitions"
                )


def _check_name(name: str, kind: str, label: str) -> None:
    problem = identifier_problem(name, kind)
    if problem:
        raise _fail(f"create table: {label} {show(name)}: {problem}")


def _check_namespace(catalog: SchemaCatalog, table: TableDefinition) -> None:
    existing = catalog.get(table.full_name)
    if existing is not None and existing.owner != table.plugin:
        owner = "the core schema" if existing.owner is None else f"plugin {show(existing.owner)}"
        raise _fail(
            f"define_table {show(table.short_name)}: table {show(table.full_name)} belongs to "
            f"{owner} (namespace isolation)"
        )
    if existing is None and catalog.exists(table.full_name):
        raise _fail(
            f"define_table {show(table.short_name)}: table {show(table.full_name)} already "
            f"exists and is not registered to plugin {show(table.plugin)}"
        )
    prefix = table_prefix(table.plugin)
    own_columns = {fold(c) for c in table.column_names}
    for fk in table.foreign_keys:
        if fold(fk.ref_table) == fold(table.full_name):
            columns = own_columns
        else:
            ref = catalog.get(fk.ref_table)
            if ref is None and not catalog.exists(fk.ref_table):
                if "_" in fk.ref_table[len(prefix) :]:
                    # Another plugin ("<name>_x") could define this name later.
                    raise _fail(
                        f"foreign_key ref_table {show(fk.ref_table)} must be defined before "
                        "it is referenced (its name is ambiguous between plugins)"
                    )
                continue
            if ref is None or ref.owner != table.plugin:
                raise _fail(
                    f"foreign_key ref_table {show(fk.ref_table)} is not a table of plugin "
                    f"{show(table.plugin)} (namespace isolation)"
                )
            columns = {fold(c) for c in ref.columns}
        if fold(fk.ref_column) not in columns:
            raise _fail(
                f"foreign_key ref_column {show(fk.ref_column)} not found in table "
                f"{show(fk.ref_table)}"
            )
