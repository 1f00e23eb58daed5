"""Querying published content by field values."""

from __future__ import annotations

import pytest

from modulacms.core.models import Actor
from modulacms.errors import NotFound, ValidationFailed
from modulacms.services.registry import Services


@pytest.fixture
def shop(services: Services, system: Actor) -> Services:
    services.schema.create_datatype("product", system)
    services.schema.create_datatype("list", system)
    services.schema.create_field("name", "text", system)
    services.schema.create_field("price", "number", system)
    services.schema.create_field("featured", "boolean", system)
    for field in ("name", "price", "featured"):
        services.schema.attach("product", field, system)
    services.routes.create("/products", system)
    root = services.content.create("/products", "list", {}, system).content_data_id
    for name, price, featured in [("apple", 9, True), ("pear", 10, False), ("plum", 100, True)]:
        services.content.create(
            "/products",
            "product",
            {"name": name, "price": price, "featured": featured},
            system,
            parent_id=root,
        )
    services.content.create(
        "/products", "product", {"name": "draft-only", "price": 1}, system, parent_id=root
    )
    services.publishing.publish("/products", system)
    services.content.create(
        "/products", "product", {"name": "unpublished", "price": 5}, system, parent_id=root
    )
    return services


def names(page) -> list[str]:
    return [item.fields["name"] for item in page.items]


def test_numbers_compare_as_numbers(shop: Services) -> None:
    page = shop.query.query("product", [("price", "gt", "9.5")], sort="price")
    assert names(page) == ["pear", "plum"]
    assert page.items[0].fields == {"name": "pear", "price": 10, "featured": False}
    assert page.items[0].route == "/products"


def test_two_filters_sort_and_paging(shop: Services) -> None:
    page = shop.query.query(
        "product", [("featured", "eq", "true"), ("price", "lte", "100")], sort="-price", limit=1
    )
    assert (names(page), page.total, page.limit) == (["plum"], 2, 1)
    second = shop.query.query(
        "product", [("featured", "eq", "true")], sort="-price", limit=1, offset=1
    )
    assert names(second) == ["apple"]


def test_in_like_and_neq(shop: Services) -> None:
    assert names(shop.query.query("product", [("name", "in", "pear,plum")], sort="name")) == [
        "pear",
        "plum",
    ]
    assert names(shop.query.query("product", [("name", "like", "p%")], sort="name")) == [
        "pear",
        "plum",
    ]
    assert "apple" not in names(shop.query.query("product", [("name", "neq", "apple")]))


def test_only_published_values_are_seen(shop: Services) -> None:
    every = names(shop.query.query("product", [], sort="name"))
    assert every == ["apple", "draft-only", "pear", "plum"]


def test_bad_queries_are_explained(shop: Services) -> None:
    with pytest.raises(NotFound):
        shop.query.query("nope")
    with pytest.raises(ValidationFailed) as caught:
        shop.query.query(
            "product",
            [("colour", "eq", "red"), ("price", "between", "1"), ("price", "gt", "cheap")],
            sort="weight",
            limit=0,
        )
    assert {e.field for e in caught.value.errors} == {"colour", "price", "sort", "limit"}
    assert shop.query.query("product", limit=1000).limit == 100


def test_both_plans_give_the_same_pages(shop: Services, system: Actor) -> None:
    from modulacms.db.repositories.published import Filter, Sort

    root = shop.content.tree("/products").root
    assert root is not None
    for n in range(30):
        shop.content.create(
            "/products", "product", {"name": f"n{n % 7}", "price": n % 5}, system, parent_id=root.id
        )
    shop.publishing.publish("/products", system)
    price = shop.schema.field("price").field_id
    name = shop.schema.field("name").field_id
    dt = shop.schema.datatype("product").datatype_id
    for sort in (Sort(price, True, True), Sort(price, True, False), Sort(name, False, False)):
        for offset in (0, 7, 30):
            pages = [
                [
                    r.content_data_id
                    for r in shop.query.repo.page(
                        dt, [Filter(price, True, "gte", 1.0)], sort, 8, offset, by_sort_index=flag
                    )
                ]
                for flag in (False, True)
            ]
            assert pages[0] == pages[1]


def test_plans_use_indexes(shop: Services) -> None:
    from modulacms.db.repositories.published import Filter, Sort

    price = shop.schema.field("price").field_id
    featured = shop.schema.field("featured").field_id
    dt = shop.schema.datatype("product").datatype_id
    filters = [Filter(featured, False, "eq", "true"), Filter(price, True, "gte", 5.0)]
    for flag in (False, True):
        plan = " | ".join(shop.query.repo.plan(dt, filters, Sort(price, True, True), flag))
        assert "SCAN" not in plan, plan
    sorted_plan = " | ".join(shop.query.repo.plan(dt, filters, Sort(price, True, True), True))
    assert sorted_plan.startswith("SEARCH s USING COVERING INDEX idx_published_fields_num")
    assert "TEMP B-TREE" not in sorted_plan


def test_count_reads_only_the_value_indexes(shop: Services) -> None:
    from modulacms.db.repositories.published import Filter, _count_sql

    price = shop.schema.field("price").field_id
    featured = shop.schema.field("featured").field_id
    dt = shop.schema.datatype("product").datatype_id
    sql, params = _count_sql(
        dt, [Filter(featured, False, "eq", "true"), Filter(price, True, "gte", 5.0)]
    )
    plan = " | ".join(
        str(r[3]) for r in shop.query.repo.db.execute(f"EXPLAIN QUERY PLAN {sql}", params)
    )
    assert "published_nodes" not in plan and "SCAN" not in plan, plan
    assert shop.query.repo.count(dt, [Filter(featured, False, "eq", "true")]) == 2
    assert shop.query.repo.count(dt, []) == 4
