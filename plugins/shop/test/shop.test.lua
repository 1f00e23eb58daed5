local BASE = "/api/v1/plugins/shop"

local function add(name, sku, price, stock, category)
  local res = test.request("POST", BASE .. "/products", { body = json.encode({
    name = name, sku = sku, price = price, stock = stock, category = category }) })
  test.assert_eq(201, res.status, "create " .. sku)
  return res.json
end

local function order(customer, items)
  return test.request("POST", BASE .. "/orders", { auth = "none",
    body = json.encode({ customer = customer, items = items }) })
end

function test_create_and_get_product()
  local p = add("Hammer", "HAM-1", 12.5, 3, "tools")
  local res = test.request("GET", BASE .. "/products/" .. p.id, { auth = "none" })
  test.assert_eq(200, res.status)
  test.assert_eq("HAM-1", res.json.sku)
  test.assert_eq(404, test.request("GET", BASE .. "/products/nope").status)
end

function test_duplicate_sku_is_409()
  add("Hammer", "HAM-1", 12.5, 3, "tools")
  local res = test.request("POST", BASE .. "/products", { body = json.encode({
    name = "Other", sku = "HAM-1", price = 1 }) })
  test.assert_eq(409, res.status)
end

function test_creating_products_needs_a_user()
  local res = test.request("POST", BASE .. "/products", { auth = "none",
    body = json.encode({ name = "x", sku = "x", price = 1 }) })
  test.assert_eq(401, res.status)
end

function test_listing_filters_sort_and_paging()
  add("Hammer", "HAM-1", 12.5, 3, "tools")
  add("Saw", "SAW-1", 25, 0, "tools")
  add("Glue", "GLU-1", 4, 10, "supplies")
  add("Drill", "DRL-1", 80, 1, "tools")
  local res = test.request("GET", BASE .. "/products?category=tools&in_stock=true&sort=-price")
  test.assert_eq(200, res.status)
  test.assert_eq(2, #res.json.data)
  test.assert_eq("DRL-1", res.json.data[1].sku)
  test.assert_eq("HAM-1", res.json.data[2].sku)
  res = test.request("GET", BASE .. "/products?min_price=5&max_price=30&sort=price")
  test.assert_eq({ "HAM-1", "SAW-1" }, { res.json.data[1].sku, res.json.data[2].sku })
  res = test.request("GET", BASE .. "/products?sort=name&limit=2&page=2")
  test.assert_eq(2, #res.json.data)
  test.assert_eq("HAM-1", res.json.data[1].sku)
  test.assert_eq(400, test.request("GET", BASE .. "/products?sort=evil").status)
end

function test_checkout_decrements_stock()
  local p = add("Hammer", "HAM-1", 12.5, 3, "tools")
  local res = order("ann@example.com", { { product_id = p.id, quantity = 2 } })
  test.assert_eq(201, res.status)
  test.assert_eq(25, res.json.total)
  local after = db.query_one("products", { where = { id = p.id } })
  test.assert_eq(1, after.stock)
  test.assert_eq(1, after.in_stock)
  test.assert_eq(1, db.count("orders"))
  test.assert_eq(1, db.count("order_items"))
end

function test_insufficient_stock_is_refused_atomically()
  local a = add("Hammer", "HAM-1", 12.5, 5, "tools")
  local b = add("Saw", "SAW-1", 25, 1, "tools")
  local res = order("ann@example.com", { { product_id = a.id, quantity = 2 },
                                         { product_id = b.id, quantity = 2 } })
  test.assert_eq(409, res.status)
  test.assert_contains(res.json.error, "insufficient stock for SAW-1")
  test.assert_eq(5, db.query_one("products", { where = { id = a.id } }).stock)
  test.assert_eq(0, db.count("orders"))
end

function test_selling_out_clears_in_stock()
  local p = add("Saw", "SAW-1", 25, 1, "tools")
  test.assert_eq(201, order("bob@example.com", { { product_id = p.id, quantity = 1 } }).status)
  test.assert_eq(0, db.query_one("products", { where = { id = p.id } }).in_stock)
  test.assert_eq(409, order("bob@example.com", { { product_id = p.id, quantity = 1 } }).status)
end

function test_customer_orders()
  local p = add("Glue", "GLU-1", 4, 10, "supplies")
  order("ann@example.com", { { product_id = p.id, quantity = 1 } })
  order("ann@example.com", { { product_id = p.id, quantity = 2 } })
  order("bob@example.com", { { product_id = p.id, quantity = 1 } })
  local res = test.request("GET", BASE .. "/customers/ann@example.com/orders")
  test.assert_eq(200, res.status)
  test.assert_eq(2, #res.json.data)
  test.assert_eq(2, res.json.data[1].items[1].quantity)
  test.assert_eq(401, test.request("GET", BASE .. "/customers/ann@example.com/orders",
    { auth = "none" }).status)
end

function test_unknown_product_is_404()
  local res = order("ann@example.com", { { product_id = "missing", quantity = 1 } })
  test.assert_eq(404, res.status)
end
