"""``scripts/bench store``: the content store's targets (issue: core store and services).

RESULT lines:
- store.assemble_vs_fetch: loading + assembling a 50-node route tree, divided by the bare
  cost of the same three SELECTs (rows fetched, nothing built). Target <= 2.
- store.load_scaling: the same route load in a site of N pages over one of 1,000 pages.
  Target <= 1.3 (cost grows with the route, not the database).
- store.create_vs_bare: create-with-fields throughput through the service (validation,
  tree pointers, audit rows included) over a bare ``executemany`` of the same rows.
  Target >= 0.25.
- store.eav_vs_columnar: published pages by two field conditions + sort + limit 20 through
  the EAV published index, over the same query on a columnar table (both fetch the 20
  rows with all their values). Target <= 5. The full service call, which also counts
  every match for ``total``, is printed for information.
"""

from __future__ import annotations

import random
import shutil
import tempfile
from pathlib import Path

import apsw

from bench.common import info, median_time, paired_medians, result
from bench.sites import FIELDS, TREE_SLUG, page_values, site
from modulacms.app import build_app
from modulacms.core.ids import new_id
from modulacms.core.models import Actor
from modulacms.services.content import NewContent

SUITE = "store"


def _bare_fetch(conn: apsw.Connection, route_id: str, datatype_ids: list[str]) -> None:
    list(
        conn.execute(
            "SELECT c.*, d.* FROM content_data c JOIN datatypes d ON d.datatype_id = c.datatype_id "
            "WHERE c.route_id = ? AND c.trashed_at IS NULL",
            (route_id,),
        )
    )
    marks = ",".join("?" * len(datatype_ids))
    list(
        conn.execute(
            "SELECT j.datatype_id, j.sort_order, j.required, f.* FROM datatypes_fields j "
            f"JOIN fields f USING (field_id) WHERE j.datatype_id IN ({marks})",
            datatype_ids,
        )
    )
    list(
        conn.execute(
            "SELECT content_data_id, field_id, field_value FROM content_fields "
            "WHERE route_id = ? AND locale = ?",
            (route_id, ""),
        )
    )


def route_load(path: Path, runs: int) -> tuple[float, float]:
    """(median service load+assemble, median bare fetch) of the 50-node route, seconds."""
    with build_app(path, migrate_schema=False) as app:
        services = app.services
        tree = services.content.tree(TREE_SLUG)
        assert tree.node_count == 50, tree.node_count
        route_id = tree.route.route_id
        datatype_ids = (
            sorted({n.datatype.datatype_id for n in tree.root.walk()}) if tree.root else []
        )
        conn = apsw.Connection(str(path))
        try:
            bare = median_time(
                lambda: _bare_fetch(conn, route_id, datatype_ids), runs=runs, warmup=5
            )
        finally:
            conn.close()
        full = median_time(lambda: services.content.tree(TREE_SLUG), runs=runs, warmup=5)
    return full, bare


def load_scaling(big: Path, small: Path, runs: int) -> tuple[float, float]:
    """(median route load in the big site, in the small site), measured alternately."""
    with (
        build_app(big, migrate_schema=False) as large,
        build_app(small, migrate_schema=False) as tiny,
    ):
        return paired_medians(
            lambda: large.services.content.tree(TREE_SLUG),
            lambda: tiny.services.content.tree(TREE_SLUG),
            runs=runs,
            warmup=5,
        )


def create_throughput(nodes: int) -> tuple[float, float]:
    """(service nodes/s, bare executemany nodes/s) for nodes with 10 fields each."""
    actor = Actor.system("bench")
    rng = random.Random(7)
    folder = Path(tempfile.mkdtemp(prefix="modulacms-bench-"))
    try:
        with build_app(folder / "create.db") as app:
            s = app.services
            s.schema.create_datatype("page", actor)
            for name in FIELDS:
                s.schema.create_field(name, "number" if name == "rank" else "text", actor)
                s.schema.attach("page", name, actor)
            s.routes.create("/bulk", actor)
            root = s.content.create("/bulk", "page", page_values(rng, 0), actor).content_data_id
            items = [NewContent("page", page_values(rng, n), parent_id=root) for n in range(nodes)]
            service = median_time(
                lambda: s.content.create_many("/bulk", items, actor), runs=3, warmup=1
            )
            # the same rows, written as plainly as SQLite allows
            route_id = s.routes.get("/bulk").route_id
            dt = s.schema.datatype("page").datatype_id
            field_ids = {df.field.name: df.field.field_id for df in s.schema.fields_of("page")}
            db = app.db

            def bare() -> None:
                node_rows, value_rows = [], []
                for item in items:
                    node_id = new_id()
                    node_rows.append(
                        (node_id, root, root, route_id, dt, "2026-01-01T00:00:00.000Z")
                    )
                    for name, value in item.values.items():
                        value_rows.append(
                            (new_id(), node_id, field_ids[name], str(value), route_id)
                        )
                with db.transaction() as conn:
                    conn.executemany(
                        "INSERT INTO content_data (content_data_id, parent_id, root_id, route_id, "
                        "datatype_id, date_created, date_modified) VALUES (?,?,?,?,?,?,?6)",
                        node_rows,
                    )
                    conn.executemany(
                        "INSERT INTO content_fields (content_field_id, content_data_id, field_id, "
                        "field_value, route_id, date_created, date_modified) "
                        "VALUES (?,?,?,?,?,'x','x')",
                        value_rows,
                    )

            plain = median_time(bare, runs=3, warmup=1)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return nodes / service, nodes / plain


def eav_vs_columnar(path: Path, runs: int) -> tuple[float, float, float, list[str]]:
    """Two filters + sort + limit 20: (EAV page seconds, columnar page seconds, full service
    call seconds including the total count, EAV query plan).

    Both page queries return the 20 matching rows with all their values; the columnar
    table holds the same published data with an index per filtered column, as a plugin
    table would.
    """
    from modulacms.db.repositories.published import Filter, Sort

    with build_app(path, migrate_schema=False) as app:
        s = app.services
        query, repo = s.query, s.query.repo
        filters = [("category", "eq", "c3"), ("rank", "gte", "500")]
        category, rank = s.schema.field("category").field_id, s.schema.field("rank").field_id
        dt = s.schema.datatype("page").datatype_id
        built = [Filter(category, False, "eq", "c3"), Filter(rank, True, "gte", 500.0)]
        order = Sort(rank, True, True)

        def eav_page() -> list[tuple[str, str, str | None]]:
            rows = repo.page(dt, built, order, 20, 0, by_sort_index=True)
            return repo.values([r.content_data_id for r in rows])

        plan = repo.plan(dt, built, order, True)
        service = median_time(
            lambda: query.query("page", filters, sort="-rank", limit=20), runs=runs
        )
        expected = [i.id for i in query.query("page", filters, sort="-rank", limit=20).items]
        table: dict[str, dict[str, object]] = {}
        names = {df.field.field_id: df.field.name for df in s.schema.fields_of("page")}
        for content_id, field_id, text, num in app.db.execute(
            "SELECT content_data_id, field_id, value_text, value_num FROM published_fields"
        ):
            table.setdefault(content_id, {})[names[field_id]] = num if num is not None else text
        conn = apsw.Connection(":memory:")
        try:
            columns = ", ".join(f"{name} {'REAL' if name == 'rank' else 'TEXT'}" for name in FIELDS)
            conn.execute(f"CREATE TABLE pages (id TEXT PRIMARY KEY, {columns})")
            conn.execute("CREATE INDEX pages_category ON pages(category)")
            conn.execute("CREATE INDEX pages_rank ON pages(rank)")
            with conn:
                conn.executemany(
                    f"INSERT INTO pages VALUES (?{',?' * len(FIELDS)})",
                    [(k, *(v.get(n) for n in FIELDS)) for k, v in table.items()],
                )
            conn.execute("ANALYZE")
            sql = (
                "SELECT * FROM pages WHERE category = ? AND rank >= ? "
                "ORDER BY rank DESC, id DESC LIMIT 20"
            )
            got = [r[0] for r in conn.execute(sql, ("c3", 500))]
            assert got == expected, "the two stores disagree"
            eav, columnar = paired_medians(
                eav_page, lambda: list(conn.execute(sql, ("c3", 500))), runs=runs
            )
        finally:
            conn.close()
    return eav, columnar, service, plan


def run(quick: bool) -> None:
    big_pages = 5_000 if quick else 50_000
    small_pages = 1_000
    runs = 31 if quick else 101
    small, big = site(small_pages), site(big_pages)

    full, bare = route_load(big, runs)
    info(SUITE, "route_load_50_nodes_ms", full * 1000, "ms")
    info(SUITE, "route_bare_fetch_ms", bare * 1000, "ms")
    result(SUITE, "assemble_vs_fetch", full / bare, "ratio", "<=", 2)

    at_big, at_small = load_scaling(big, small, runs)
    info(SUITE, f"route_load_at_{big_pages}_pages_ms", at_big * 1000, "ms")
    info(SUITE, f"route_load_at_{small_pages}_pages_ms", at_small * 1000, "ms")
    result(SUITE, "load_scaling", at_big / at_small, "ratio", "<=", 1.3)

    service, plain = create_throughput(500 if quick else 2_000)
    info(SUITE, "create_service_nodes_per_s", service, "nodes/s")
    info(SUITE, "create_bare_nodes_per_s", plain, "nodes/s")
    result(SUITE, "create_vs_bare", service / plain, "ratio", ">=", 0.25)

    eav, columnar, service_call, plan = eav_vs_columnar(big, runs)
    info(SUITE, f"query_eav_page_{big_pages}_pages_ms", eav * 1000, "ms")
    info(SUITE, "query_columnar_page_ms", columnar * 1000, "ms")
    info(SUITE, "query_service_with_total_ms", service_call * 1000, "ms")
    print("       query plan: " + " | ".join(plan), flush=True)
    result(SUITE, "eav_vs_columnar", eav / columnar, "ratio", "<=", 5)
