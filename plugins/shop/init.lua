-- A small shop: products, orders and order items in the plugin's own tables, a
-- transactional checkout, and a hook that keeps stock status in step with the CMS.
plugin_info = {
  name = "shop",
  version = "1.0.0",
  description = "Products, stock and orders with a transactional checkout",
  author = "ModulaCMS",
  license = "MIT",
  -- read access lets the stock hook follow "product" content edited in the CMS
  core_access = { content_data = { "read" }, content_fields = { "read" }, fields = { "read" },
                  datatypes = { "read" } },
  -- screens/inventory.lua: the stock of every product, restocked from the terminal admin
  screens = { { name = "inventory", label = "Inventory", icon = "box" } },
}

local catalog = require("catalog")

local function fail(status, message)
  return { status = status, json = { error = message } }
end

-- products ------------------------------------------------------------------------------

http.handle("GET", "/products", function(req)
  local opts, err = catalog.listing_options(req.query)
  if not opts then return fail(400, err) end
  local rows, qerr = db.query("products", opts)
  if not rows then
    log.error("listing products failed", { error = qerr })
    return fail(500, "could not list products")
  end
  return { status = 200, json = { data = rows, limit = opts.limit, offset = opts.offset } }
end, { public = true })

http.handle("GET", "/products/{id}", function(req)
  local product = db.query_one("products", { where = { id = req.params.id } })
  if not product then return fail(404, "product not found") end
  return { status = 200, json = product }
end, { public = true })

http.handle("POST", "/products", function(req)
  local values, err = catalog.product(req.json)
  if not values then return fail(400, err) end
  values.id = db.ulid()
  local ok, ierr = db.insert("products", values)
  if ierr then
    if tostring(ierr):find("UNIQUE", 1, true) then return fail(409, "sku already exists") end
    return fail(400, ierr)
  end
  return { status = 201, json = db.query_one("products", { where = { id = values.id } }) }
end)

-- orders --------------------------------------------------------------------------------

http.handle("POST", "/orders", function(req)
  local order, err = catalog.order(req.json)
  if not order then return fail(400, err) end
  local order_id = db.ulid()
  local refusal
  local lines, total = {}, 0
  local committed, terr = db.transaction(function()
    for _, item in ipairs(order.items) do
      local product = db.query_one("products", { where = { id = item.product_id } })
      if not product then
        refusal = fail(404, "product not found: " .. item.product_id)
        error("refused")
      end
      if product.stock < item.quantity then
        refusal = fail(409, "insufficient stock for " .. product.sku ..
          " (" .. product.stock .. " left, " .. item.quantity .. " wanted)")
        error("refused")
      end
      local left = product.stock - item.quantity
      db.update("products", { set = { stock = left, in_stock = left > 0 },
                              where = { id = product.id } })
      local price = product.price
      lines[#lines + 1] = { product_id = product.id, sku = product.sku,
                            quantity = item.quantity, unit_price = price }
      total = catalog.money(total + price * item.quantity)
    end
    db.insert("orders", { id = order_id, customer = order.customer, status = "placed",
                          total = total })
    for _, line in ipairs(lines) do
      db.insert("order_items", { order_id = order_id, product_id = line.product_id,
                                 quantity = line.quantity, unit_price = line.unit_price })
    end
  end)
  if not committed then
    if refusal then return refusal end
    log.error("checkout failed", { error = terr })
    return fail(500, "checkout failed")
  end
  return { status = 201, json = { id = order_id, customer = order.customer, total = total,
                                  status = "placed", items = lines } }
end, { public = true })

http.handle("GET", "/customers/{customer}/orders", function(req)
  local orders = db.query("orders", {
    where = { customer = req.params.customer:lower() },
    order_by = "created_at", desc = true, limit = 20,
  })
  for _, o in ipairs(orders or {}) do
    o.items = db.query("order_items", { where = { order_id = o.id },
                                        columns = { "product_id", "quantity", "unit_price" } })
  end
  return { status = 200, json = { data = orders or {} } }
end)

-- stock status hook ------------------------------------------------------------------------
-- Editors may keep products as CMS content (datatype "product" with fields "sku" and
-- "stock"). Whenever such content is created or updated, the shop's own product with the
-- same sku follows its stock figure and in_stock flag.

local function field_values(content_id)
  local values = {}
  local rows = core.query("content_fields", { where = { content_data_id = content_id } }) or {}
  for _, row in ipairs(rows) do
    local field = core.query_one("fields", { where = { field_id = row.field_id } })
    if field then values[field.name] = row.field_value end
  end
  return values
end

local function follow_stock(data)
  if type(data.content_data_id) ~= "string" or type(data.datatype_id) ~= "string" then return end
  local datatype = core.query_one("datatypes", { where = { datatype_id = data.datatype_id } })
  if not datatype or datatype.name ~= "product" then return end
  local values = field_values(data.content_data_id)
  local stock = tonumber(values.stock)
  if type(values.sku) ~= "string" or not stock then return end
  stock = math.max(0, math.floor(stock))
  db.update("products", { set = { stock = stock, in_stock = stock > 0 },
                          where = { sku = values.sku } })
  log.info("stock synced from content", { sku = values.sku, stock = stock })
end

hooks.on("after_create", "content_data", follow_stock)
hooks.on("after_update", "content_data", follow_stock)

-- schema ---------------------------------------------------------------------------------

function on_init()
  db.define_table("products", {
    columns = {
      { name = "name", type = "text", not_null = true },
      { name = "sku", type = "text", not_null = true, unique = true },
      { name = "category", type = "text", not_null = true, default = "general" },
      { name = "description", type = "text" },
      { name = "price", type = "real", not_null = true },
      { name = "stock", type = "integer", not_null = true, default = 0 },
      { name = "in_stock", type = "boolean", not_null = true, default = 0 },
    },
    indexes = {
      { columns = { "category", "price" } },
      { columns = { "in_stock" } },
    },
  })
  db.define_table("orders", {
    columns = {
      { name = "customer", type = "text", not_null = true },
      { name = "status", type = "text", not_null = true, default = "placed" },
      { name = "total", type = "real", not_null = true },
    },
    indexes = { { columns = { "customer", "created_at" } } },
  })
  db.define_table("order_items", {
    columns = {
      { name = "order_id", type = "text", not_null = true },
      { name = "product_id", type = "text", not_null = true },
      { name = "quantity", type = "integer", not_null = true },
      { name = "unit_price", type = "real", not_null = true },
    },
    indexes = { { columns = { "order_id" } } },
    foreign_keys = {
      { column = "order_id", ref_table = "plugin_shop_orders", ref_column = "id",
        on_delete = "CASCADE" },
      { column = "product_id", ref_table = "plugin_shop_products", ref_column = "id",
        on_delete = "RESTRICT" },
    },
  })
end
