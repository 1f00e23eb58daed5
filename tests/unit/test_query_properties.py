"""Properties: identifiers only ever appear quoted and catalogued, values only as parameters."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from modulacms.db.query import (
    PluginQueryBuilder,
    SchemaCatalog,
    Statement,
    TableSchema,
    fold,
    parse_table_definition,
)
from modulacms.db.query.identifiers import Scope, identifier_problem, plugin_table
from modulacms.errors import QueryRejected

TOKEN = re.compile(r"\s+|[A-Za-z_]+|<>|!=|>=|<=|[=<>(),.*?]")
VOCABULARY = set(
    "SELECT DISTINCT FROM WHERE AND OR NOT IN IS NULL LIKE BETWEEN INSERT INTO VALUES UPDATE "
    "SET DELETE ON CONFLICT DO NOTHING excluded LIMIT OFFSET ORDER BY ASC DESC GROUP HAVING "
    "COUNT SUM AVG MIN MAX AS INNER LEFT RIGHT JOIN CREATE TABLE UNIQUE INDEX IF EXISTS "
    "PRIMARY KEY DEFAULT FOREIGN REFERENCES CASCADE RESTRICT TEXT INTEGER REAL BLOB".split()
) | {"=", "<>", "!=", ">", "<", ">=", "<=", "(", ")", ",", ".", "*", "?"}

_LETTER = st.characters(categories=["Lu", "Ll", "Lt", "Lm", "Lo"])
_TAIL = st.characters(categories=["Lu", "Ll", "Lt", "Lm", "Lo", "Nd"]) | st.just("_")
IDENTIFIER = st.builds(
    lambda first, rest: first + rest,
    _LETTER | st.just("_"),
    st.text(_TAIL, max_size=15),
).filter(lambda name: identifier_problem(name, "column") is None)
HOSTILE_TEXT = st.sampled_from(
    [
        "'",
        '"',
        "''",
        '""',
        "?",
        ";",
        "--",
        "/*",
        "*/",
        "'; DROP TABLE users; --",
        '") OR 1=1 --',
        "\x00",
        "\u200b",
        "NULL",
        "1 OR 1=1",
        "\\",
        "%",
        "_",
    ]
)
VALUE = st.one_of(
    st.text(),
    HOSTILE_TEXT,
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False),
    st.binary(max_size=20),
    st.booleans(),
)


def scan(sql: str) -> tuple[list[str], list[str], str]:
    """Split SQL into quoted identifiers, quoted literals and the remaining text."""
    idents: list[str] = []
    literals: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(sql):
        quote = sql[i]
        if quote not in "\"'":
            rest.append(quote)
            i += 1
            continue
        j, chunk = i + 1, []
        while True:
            end = sql.index(quote, j)  # an unterminated quote fails the test
            chunk.append(sql[j:end])
            if sql[end + 1 : end + 2] != quote:
                break
            chunk.append(quote)
            j = end + 2
        (idents if quote == '"' else literals).append("".join(chunk))
        rest.append(" ")
        i = end + 1
    return idents, literals, "".join(rest)


def unique_by_fold(names: list[str]) -> list[str]:
    seen: dict[str, str] = {}
    for name in names:
        seen.setdefault(fold(name), name)
    return list(seen.values())


@st.composite
def schemas(draw: st.DrawFn) -> tuple[TableSchema, list[str]]:
    short = draw(IDENTIFIER.filter(lambda s: len(("plugin_p_" + s).encode()) <= 64))
    names = unique_by_fold(draw(st.lists(IDENTIFIER, min_size=1, max_size=6)))
    names = [n for n in names if fold(n) not in {"id", "created_at", "updated_at"}] or ["c"]
    columns = ("id", *names, "created_at", "updated_at")
    return TableSchema("plugin_p_" + short, columns, "p"), names


def check_statement(statement: Statement, allowed: set[str], values: list[object]) -> None:
    sql, params = statement
    idents, literals, rest = scan(sql)
    assert set(idents) <= allowed
    assert not literals
    assert "".join(TOKEN.findall(rest)) == rest, rest
    assert {t for t in TOKEN.findall(rest) if not t.isspace()} <= VOCABULARY
    assert rest.count("?") == len(params)
    for value in values:
        assert any(p is value or (p == value and type(p) is type(value)) for p in params)


@settings(max_examples=150, deadline=None)
@given(schemas(), st.data())
def test_values_are_parameters_and_names_are_quoted(
    schema: tuple[TableSchema, list[str]], data: st.DataObject
) -> None:
    table, names = schema
    builder = PluginQueryBuilder(SchemaCatalog.of([table]), "p", ids=lambda: "i", clock=lambda: "t")
    short = table.name.removeprefix("plugin_p_")
    allowed = {table.name, *table.columns}
    values = {n: data.draw(VALUE) for n in names}
    column = data.draw(st.sampled_from(names))
    listed = data.draw(st.lists(VALUE, min_size=1, max_size=5))
    cond = ["AND", [[column, "=", values[column]], [column, "IN", listed]]]

    check_statement(
        builder.select(short, {"where": values, "order_by": column}), allowed, list(values.values())
    )
    check_statement(builder.select(short, {"where": cond, "columns": names}), allowed, listed)
    check_statement(builder.count(short, {"where": cond}), allowed, listed)
    check_statement(builder.insert(short, values), allowed, list(values.values()))
    check_statement(
        builder.update(short, {"set": values, "where": {column: listed[0]}}),
        allowed,
        [*values.values(), listed[0]],
    )
    check_statement(builder.delete(short, {"where": cond}), allowed, listed)
    upsert = builder.upsert(short, {"values": values, "conflict_columns": [column]})
    check_statement(upsert, allowed, list(values.values()))
    for statement in builder.insert_many(short, names, [list(values.values())] * 3):
        check_statement(statement, allowed, list(values.values()))


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=30))
def test_any_text_resolves_to_a_catalogued_column_or_is_refused(name: str) -> None:
    table = TableSchema("plugin_p_t", ("id", "title", "Kind", "名前"), "p")
    try:
        sql = Scope(table, plugin="p").column(name, qualified=True)
    except QueryRejected:
        return
    assert sql.strip('"').replace('"."', ".").split(".")[-1] in table.columns
    assert fold(name) in {fold(c) for c in table.columns} | {"t." + fold(c) for c in table.columns}


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=30))
def test_any_text_resolves_to_an_owned_table_or_is_refused(short: str) -> None:
    owned = TableSchema("plugin_a_items", ("id",), "a")
    foreign = TableSchema("plugin_a_b_c", ("id",), "a_b")
    catalog = SchemaCatalog.of([owned, foreign, TableSchema("users", ("id",))])
    try:
        table = plugin_table(catalog, "a", short)
    except QueryRejected:
        return
    assert table is owned


@settings(max_examples=100, deadline=None)
@given(st.text(st.characters(exclude_characters="\x00")), IDENTIFIER)
def test_default_literals_round_trip(default: str, column: str) -> None:
    if fold(column) in {"id", "created_at", "updated_at"}:
        return
    definition = {"columns": [{"name": column, "type": "text", "default": default}]}
    table = parse_table_definition(SchemaCatalog.of([]), "p", "t", definition)
    (create,) = [s.sql for s in table.statements()]
    idents, literals, rest = scan(create)
    assert set(idents) == {"plugin_p_t", "id", column, "created_at", "updated_at"}
    assert literals == ([default] if default else [])
    assert {t for t in TOKEN.findall(rest) if not t.isspace()} <= VOCABULARY
