"""Identifiers: the strict name rule, quoting, the schema catalog and name resolution.

A name reaches SQL text only after three steps: it passes the identifier rule of spec §4.1
(:func:`check_identifier`), it is found in the :class:`SchemaCatalog` (so a typo can never
turn into SQLite's "double-quoted string literal" fallback), and it is rendered from the
catalog's own spelling through :func:`quote`. SQLite compares identifiers ignoring ASCII
case only, so the catalog does the same and nothing else (the Kelvin sign is not a ``k``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from modulacms.errors import QueryRejected

MAX_IDENTIFIER_BYTES = 64
MAX_PLUGIN_NAME_BYTES = 32

#: Words the original refuses as table or column names (compared case-insensitively).
RESERVED_WORDS = frozenset(
    "SELECT INSERT UPDATE DELETE DROP CREATE ALTER INDEX TABLE DATABASE SCHEMA VIEW "
    "PROCEDURE FUNCTION TRIGGER UNION WHERE ORDER GROUP HAVING FROM JOIN ON AS".split()
)

_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def show(value: object) -> str:
    """A name as error messages print it: double-quoted, escapes visible."""
    return json.dumps(str(value), ensure_ascii=False)


def fold(name: str) -> str:
    """The key SQLite compares identifiers by: ASCII letters lower-cased, nothing else."""
    return name.translate(_ASCII_LOWER)


def _is_word_char(char: str, *, first: bool) -> bool:
    # Letters of any script (Unicode L*), decimal digits (Nd) and "_", as the original's
    # unicode.IsLetter / unicode.IsDigit. isdecimal() is exactly Nd; isdigit() is wider.
    if char == "_" or char.isalpha():
        return True
    return not first and char.isdecimal()


def identifier_problem(name: str, kind: str) -> str | None:
    """Why ``name`` is not an acceptable ``kind`` ("table"/"column") name, or ``None``."""
    if not name:
        return f"{kind} name cannot be empty"
    # The original measures bytes, so a long non-ASCII name is refused there too.
    if len(name.encode("utf-8", "surrogatepass")) > MAX_IDENTIFIER_BYTES:
        return f"{kind} name too long (max {MAX_IDENTIFIER_BYTES} characters)"
    if not all(_is_word_char(c, first=i == 0) for i, c in enumerate(name)):
        return (
            f"invalid {kind} name format: must contain only letters, numbers, and "
            "underscores, and start with a letter or underscore"
        )
    if name.upper() in RESERVED_WORDS:
        return f"{kind} name cannot be a SQL keyword: {name}"
    return None


def check_identifier(
    name: object, kind: str, *, role: str | None = None, raises: bool = False
) -> str:
    """Return ``name`` if it is an acceptable identifier, else raise :class:`QueryRejected`.

    ``role`` names the place in messages (``invalid order_by column "x": ...``).
    """
    label = role or kind
    if not isinstance(name, str):
        raise QueryRejected(f"{label} name must be a string", raises=raises)
    problem = identifier_problem(name, kind)
    if problem is not None:
        raise QueryRejected(f"invalid {label} {show(name)}: {problem}", raises=raises)
    return name


def quote(name: str) -> str:
    """Quote an identifier for SQLite, doubling any embedded double quote."""
    return '"' + name.replace('"', '""') + '"'


def check_plugin_name(plugin: str) -> str:
    """Validate a plugin name by the manifest rule (spec §1.3); returns it."""
    size = len(plugin.encode("utf-8", "surrogatepass"))
    ok = 0 < size <= MAX_PLUGIN_NAME_BYTES and not plugin.endswith("_")
    ok = ok and all(c == "_" or c.isdecimal() or (c.isalpha() and c.islower()) for c in plugin)
    if not ok:
        raise QueryRejected(f"invalid plugin name {show(plugin)}", raises=True)
    return plugin


def table_prefix(plugin: str) -> str:
    """The namespace of a plugin's tables: ``plugin_<name>_``."""
    return f"plugin_{plugin}_"


def full_table_name(plugin: str, short: object, *, raises: bool = False) -> str:
    """Prefix a plugin's short table name and validate the result (spec §4.1)."""
    if not isinstance(short, str):
        raise QueryRejected("table name must be a string", raises=True)
    full = table_prefix(check_plugin_name(plugin)) + short
    problem = "table name cannot be empty" if not short else identifier_problem(full, "table")
    if problem is not None:
        raise QueryRejected(f"invalid table name {show(short)}: {problem}", raises=raises)
    return full


@dataclass(frozen=True, slots=True)
class TableSchema:
    """One table as it exists in the database: its name, ordered columns and owner.

    ``owner`` is the plugin that created the table (from the ``tables`` registry) or
    ``None`` for a core table.
    """

    name: str
    columns: tuple[str, ...]
    owner: str | None = None
    _index: dict[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {fold(c): c for c in self.columns})

    def column(self, name: str) -> str | None:
        """The column's own spelling when the table has it, else ``None``."""
        return self._index.get(fold(name))


@dataclass(frozen=True, slots=True)
class SchemaCatalog:
    """What the query builder may name: tables by full name, with columns and owners.

    ``existing`` lists every table of the database (folded), owned or not, so that
    ``define_table`` can refuse to adopt a table nobody registered.
    """

    tables: Mapping[str, TableSchema]
    existing: frozenset[str] = frozenset()

    @classmethod
    def of(cls, tables: Iterable[TableSchema], existing: Iterable[str] = ()) -> SchemaCatalog:
        """Build a catalog; ``existing`` is widened to include every given table."""
        by_key = {fold(t.name): t for t in tables}
        names = {fold(n) for n in existing} | set(by_key)
        return cls(by_key, frozenset(names))

    def get(self, full_name: str) -> TableSchema | None:
        """The table with this full name, or ``None``."""
        return self.tables.get(fold(full_name))

    def exists(self, full_name: str) -> bool:
        """Whether any table (registered or not) has this name."""
        return fold(full_name) in self.existing

    def owned_by(self, plugin: str) -> list[TableSchema]:
        """Every table a plugin owns."""
        return [t for t in self.tables.values() if t.owner == plugin]


def plugin_table(catalog: SchemaCatalog, plugin: str, short: object) -> TableSchema:
    """Resolve a plugin's short table name to a table it owns; ``nil, err`` otherwise."""
    full = full_table_name(plugin, short)
    table = catalog.get(full)
    if table is None:
        raise QueryRejected(f"no such table: {full}")
    if table.owner != plugin:
        raise QueryRejected(
            f"table {show(full)} does not belong to plugin {show(plugin)} (namespace isolation)"
        )
    return table


class Scope:
    """The tables one statement reads from, and how its column names become SQL.

    Unqualified names must be a column of one of the tables (or, where ``alias=True``, an
    aggregate alias). Qualified ``tasks.title`` (plugin map path only) names a short table
    of the same plugin that is part of the statement. ``blocked`` columns (``users.hash``)
    cannot be named at all.
    """

    def __init__(
        self,
        base: TableSchema,
        *,
        plugin: str | None = None,
        joined: Iterable[TableSchema] = (),
        blocked: Iterable[str] = (),
        aliases: Iterable[str] = (),
    ) -> None:
        self.base = base
        self.plugin = plugin
        self.tables = (base, *joined)
        self.blocked = frozenset(fold(b) for b in blocked)
        self.aliases = {fold(a): a for a in aliases}

    def column(
        self, name: str, *, qualified: bool = False, alias: bool = False, role: str = "column"
    ) -> str:
        """The quoted SQL for a column reference, or :class:`QueryRejected`."""
        if qualified and self.plugin is not None and "." in name:
            return self._qualified(self.plugin, name, role)
        check_identifier(name, "column", role=role)
        key = fold(name)
        if key in self.blocked:
            raise QueryRejected(f"column {show(name)} is blocked and cannot be accessed by plugins")
        if alias and key in self.aliases:
            return quote(self.aliases[key])
        for table in self.tables:
            found = table.column(name)
            if found is not None:
                return quote(found)
        raise QueryRejected(f"no such column: {name}")

    def _qualified(self, plugin: str, name: str, role: str) -> str:
        table_part, column_part = name.split(".", 1)
        try:
            full = full_table_name(plugin, table_part)
        except QueryRejected as exc:
            raise QueryRejected(f"invalid qualified name {show(name)}: {exc.message}") from None
        table = next((t for t in self.tables if fold(t.name) == fold(full)), None)
        if table is None:
            raise QueryRejected(
                f"table {show(table_part)} in {show(name)} is not part of the query"
            )
        check_identifier(column_part, "column", role=role)
        found = table.column(column_part)
        if found is None:
            raise QueryRejected(f"no such column: {full}.{column_part}")
        return f"{quote(table.name)}.{quote(found)}"
