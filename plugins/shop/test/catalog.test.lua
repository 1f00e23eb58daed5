local catalog = require("catalog")

function test_listing_defaults()
  local opts = catalog.listing_options({})
  test.assert_eq("name", opts.order_by)
  test.assert_eq(false, opts.desc)
  test.assert_eq(20, opts.limit)
  test.assert_eq(0, opts.offset)
end

function test_listing_filters_and_paging()
  local opts = catalog.listing_options({ category = "tools", min_price = "5", max_price = "10",
    in_stock = "true", sort = "-price", limit = "500", page = "3" })
  test.assert_eq("tools", opts.where.category)
  test.assert_eq(1, opts.where.in_stock)
  test.assert_eq("between", opts.where.price.__op)
  test.assert_eq({ 5, 10 }, opts.where.price.__val)
  test.assert_eq("price", opts.order_by)
  test.assert_eq(true, opts.desc)
  test.assert_eq(100, opts.limit)
  test.assert_eq(200, opts.offset)
end

function test_listing_rejects_bad_input()
  test.assert_nil((catalog.listing_options({ sort = "price; drop" })))
  test.assert_nil((catalog.listing_options({ min_price = "cheap" })))
  test.assert_nil((catalog.listing_options({ min_price = "9", max_price = "1" })))
  test.assert_nil((catalog.listing_options({ in_stock = "maybe" })))
end

function test_product_validation()
  local p = catalog.product({ name = "Hammer", sku = "HAM-1", price = 12.5, stock = 3 })
  test.assert_eq(true, p.in_stock)
  test.assert_eq("general", p.category)
  local _, err = catalog.product({ name = "x", sku = "bad sku", price = 1 })
  test.assert_contains(err, "sku")
  _, err = catalog.product({ name = "x", sku = "a", price = 1, stock = 1.5 })
  test.assert_contains(err, "stock")
end

function test_order_validation_merges_lines()
  local o = catalog.order({ customer = "Ann@Example.com",
    items = { { product_id = "a", quantity = 1 }, { product_id = "a", quantity = 2 } } })
  test.assert_eq("ann@example.com", o.customer)
  test.assert_eq({ { product_id = "a", quantity = 3 } }, o.items)
  local _, err = catalog.order({ customer = "nobody", items = {} })
  test.assert_contains(err, "customer")
end
