-- Inventory: every product with its stock. up/down (or j/k, home/end) move the cursor,
-- r restocks the selected product by 10 after a confirmation, g reloads, q closes.
local RESTOCK = 10
local COLUMNS = { "id", "name", "sku", "category", "price", "stock" }

local function load()
  return db.query("products", { order_by = "name", limit = 1000, columns = COLUMNS }) or {}
end

local function money(value)
  return string.format("%.2f", value)
end

local function position(products, id)
  for i, p in ipairs(products) do
    if p.id == id then return i - 1 end
  end
  return 0
end

local function layout(products, cursor, note)
  local rows = {}
  for i, p in ipairs(products) do
    rows[i] = { p.name, p.sku, tostring(p.stock), money(p.price) }
  end
  local fields = {}
  local p = products[cursor + 1]
  if p then
    fields = {
      { label = "Name", value = p.name },
      { label = "SKU", value = p.sku },
      { label = "Category", value = p.category },
      { label = "Price", value = money(p.price) },
      { label = "Stock", value = tostring(p.stock) },
      { label = "Status", value = p.stock > 0 and "in stock" or "sold out", faint = p.stock == 0 },
    }
  end
  return {
    type = "grid",
    columns = {
      { span = 8, cells = {
        { title = "Products (" .. #products .. ")", content = {
          type = "table", headers = { "name", "sku", "stock", "price" }, rows = rows,
          cursor = cursor } },
      } },
      { span = 4, cells = {
        { title = "Selected", height = 2, content = { type = "detail", fields = fields } },
        { title = "Note", height = 1, content = { type = "text", lines = { note } } },
      } },
    },
    hints = {
      { key = "up/down", label = "move" },
      { key = "r", label = "restock +" .. RESTOCK },
      { key = "g", label = "reload" },
      { key = "q", label = "close" },
    },
  }
end

-- Ask before restocking; returns the note to show.
local function restock(products, cursor)
  local p = products[cursor + 1]
  local answer = coroutine.yield({
    action = "confirm",
    title = "Restock " .. p.name,
    message = "Add " .. RESTOCK .. " to the stock of " .. p.sku .. " (now " .. p.stock .. ")?",
  })
  while answer.type ~= "dialog" do
    answer = coroutine.yield(layout(products, cursor, "waiting for the answer"))
  end
  if not answer.accepted then return "restock cancelled" end
  local stock = p.stock + RESTOCK
  local _, err = db.update("products", { set = { stock = stock, in_stock = true },
                                         where = { id = p.id } })
  if err then
    log.error("restock failed", { sku = p.sku, error = err })
    return "restock failed: " .. err
  end
  log.info("restocked", { sku = p.sku, stock = stock })
  return "restocked " .. p.sku .. " to " .. stock
end

function screen(ctx)
  local products = load()
  local cursor = 0
  local note = #products == 0 and "No products yet (POST /api/v1/plugins/shop/products)."
    or "r restocks the selected product"
  while true do
    local event = coroutine.yield(layout(products, cursor, note))
    if event.type == "key" then
      local key, last = event.key, math.max(0, #products - 1)
      if key == "q" then return end
      if key == "down" or key == "j" then cursor = math.min(cursor + 1, last)
      elseif key == "up" or key == "k" then cursor = math.max(cursor - 1, 0)
      elseif key == "home" then cursor = 0
      elseif key == "end" then cursor = last
      elseif key == "g" then
        local id = products[cursor + 1] and products[cursor + 1].id
        products = load()
        cursor = position(products, id)
        note = "reloaded"
      elseif key == "r" and products[cursor + 1] then
        local id = products[cursor + 1].id
        note = restock(products, cursor)
        products = load()
        cursor = position(products, id)
      end
    end
  end
end
