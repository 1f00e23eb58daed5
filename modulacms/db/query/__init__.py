"""The generic secure query builder for plugin tables (and the read side of ``core``).

Pure: every function returns :class:`Statement` ``(sql, params)`` and executes nothing;
:class:`modulacms.db.plugin_store.PluginStore` runs them. Imports only ``core`` and
``errors``. The rules (spec ``lua-plugin-api.md`` §4, §5):

* identifiers pass the strict rule of §4.1, must exist in the caller's
  :class:`SchemaCatalog`, must belong to the calling plugin (ownership comes from the
  ``tables`` registry, not from the name), and are always double-quoted;
* values are always bound parameters, ``LIMIT``/``OFFSET`` included; the only values
  written into SQL text are ``define_table`` ``DEFAULT`` literals (quoted, quotes doubled);
* operators come from allow-lists; update/delete demand a filter; limits are capped.

Contract for the Lua binding (``plugin_runtime/api``)
------------------------------------------------------
Arguments are Lua values converted as in spec §3: tables become ``dict`` (keys ``str``;
integer keys may stay ``int`` or become their decimal string) or ``list`` for sequences,
numbers ``float`` (``int`` is fine too), strings ``str`` (``bytes`` for binary data),
booleans ``bool``, nil ``None``. Sentinels (``db.eq``, ``db.agg_count`` ...) are the plain
tables ``{"__op": .., "__val": ..}`` / ``{"__agg": .., "__arg": .., "__alias": ..}``.

Every rejection is a :class:`modulacms.errors.QueryRejected`. Its ``raises`` attribute
says what the plugin sees:

* ``raises=True``: throw a Lua error with ``exc.message``: ``update``/``delete`` with an
  empty map filter, a missing or empty ``set``, ``upsert`` shape errors, a non-table
  argument where a table is required, and every ``define_table`` failure;
* ``raises=False``: return ``nil, exc.message`` (validation, SQL and constraint errors).

``PluginStore`` may also raise ``StoreError`` (database busy or broken) and
``PluginTimeout`` (statement interrupted). Return ``nil, message`` for a ``StoreError``
except from ``define_table``, which raises on every error; raise for ``PluginTimeout``.
The binding itself keeps the op budget, the before-hook block, the nested-transaction
check and the argument checks of the sentinel constructors (``db.eq(nil)`` raises,
``db.in_list()`` with no argument raises): those never reach the builder.

Lua function → ``PluginStore`` method (``plugin`` is the calling plugin's name)::

    db.define_table(name, def)        define_table(plugin, name, def) -> list[SchemaDrift]
    db.query(t, opts)                 query(plugin, t, opts) -> list[dict]
    db.query_one(t, opts)             query_one(plugin, t, opts) -> dict | None
    db.count(t, opts)                 count(plugin, t, opts) -> int
    db.exists(t, opts)                exists(plugin, t, opts) -> bool
    db.insert(t, values)              insert(plugin, t, values) -> None
    db.insert_many(t, cols, rows)     insert_many(plugin, t, cols, rows, charge=...) -> int
    db.update(t, opts)                update(plugin, t, opts) -> int
    db.delete(t, opts)                delete(plugin, t, opts) -> int
    db.upsert(t, opts)                upsert(plugin, t, opts) -> None
    db.create_index(t, opts)          create_index(plugin, t, opts) -> None
    db.transaction(fn)                with store.transaction(): ...
    db.timestamp(), timestamp_ago(s)  timestamp(), timestamp_ago(s) from this package
    core.query/query_one/count/exists core_query/... (plugin, approved_access, t, opts)
"""

from __future__ import annotations

from .builder import PluginQueryBuilder, batch_size, timestamp, timestamp_ago
from .core import CORE_POLICY, CoreAccess, CorePolicy, CoreQueryBuilder, check_core_access
from .ddl import SchemaDrift, TableDefinition, parse_table_definition
from .identifiers import (
    RESERVED_WORDS,
    SchemaCatalog,
    TableSchema,
    check_identifier,
    fold,
    full_table_name,
    quote,
    show,
    table_prefix,
)
from .statement import Statement

__all__ = [
    "CORE_POLICY",
    "RESERVED_WORDS",
    "CoreAccess",
    "CorePolicy",
    "CoreQueryBuilder",
    "PluginQueryBuilder",
    "SchemaCatalog",
    "SchemaDrift",
    "Statement",
    "TableDefinition",
    "TableSchema",
    "batch_size",
    "check_core_access",
    "check_identifier",
    "fold",
    "full_table_name",
    "parse_table_definition",
    "quote",
    "show",
    "table_prefix",
    "timestamp",
    "timestamp_ago",
]
