-- Pure helpers of the shop: request validation and listing filters. No db calls here,
-- so tests can exercise them directly.
local M = {}

M.MAX_LIMIT = 100
M.DEFAULT_LIMIT = 20

local SORTS = {
  name = { "name", false }, ["-name"] = { "name", true },
  price = { "price", false }, ["-price"] = { "price", true },
  newest = { "created_at", true }, oldest = { "created_at", false },
}

local function number(v)
  if v == nil or v == "" then return nil end
  return tonumber(v)
end

-- Build db.query options from a request's query table; returns opts or nil, error.
function M.listing_options(q)
  local where = {}
  if q.category and q.category ~= "" then where.category = q.category end
  local lo, hi = number(q.min_price), number(q.max_price)
  if (q.min_price and not lo) or (q.max_price and not hi) then
    return nil, "min_price and max_price must be numbers"
  end
  if lo and hi then
    if lo > hi then return nil, "min_price is larger than max_price" end
    where.price = db.between(lo, hi)
  elseif lo then
    where.price = db.gte(lo)
  elseif hi then
    where.price = db.lte(hi)
  end
  if q.in_stock == "true" then
    where.in_stock = 1
  elseif q.in_stock == "false" then
    where.in_stock = 0
  elseif q.in_stock ~= nil then
    return nil, "in_stock must be true or false"
  end
  local sort = SORTS[q.sort or "name"]
  if not sort then return nil, "sort must be one of name, -name, price, -price, newest, oldest" end
  local limit = number(q.limit) or M.DEFAULT_LIMIT
  if limit < 1 then limit = M.DEFAULT_LIMIT end
  if limit > M.MAX_LIMIT then limit = M.MAX_LIMIT end
  local offset = number(q.offset) or 0
  local page = number(q.page)
  if page and page >= 1 then offset = (math.floor(page) - 1) * limit end
  if offset < 0 then offset = 0 end
  return {
    where = where,
    order_by = sort[1],
    desc = sort[2],
    limit = math.floor(limit),
    offset = math.floor(offset),
  }
end

-- Validate a new product (from a JSON body); returns values or nil, error.
function M.product(body)
  if type(body) ~= "table" then return nil, "body must be a JSON object" end
  if type(body.name) ~= "string" or body.name == "" then return nil, "name is required" end
  if type(body.sku) ~= "string" or not body.sku:match("^[%w%-_]+$") then
    return nil, "sku is required (letters, digits, - and _)"
  end
  if type(body.price) ~= "number" or body.price < 0 then
    return nil, "price must be a non-negative number"
  end
  local stock = body.stock or 0
  if type(stock) ~= "number" or stock < 0 or stock ~= math.floor(stock) then
    return nil, "stock must be a non-negative integer"
  end
  return {
    name = body.name,
    sku = body.sku,
    category = type(body.category) == "string" and body.category or "general",
    description = type(body.description) == "string" and body.description or "",
    price = body.price,
    stock = stock,
    in_stock = stock > 0,
  }
end

-- Validate an order request; returns {customer, items} or nil, error.
function M.order(body)
  if type(body) ~= "table" then return nil, "body must be a JSON object" end
  if type(body.customer) ~= "string" or not body.customer:match("^[^@%s]+@[^@%s]+$") then
    return nil, "customer must be an email address"
  end
  if type(body.items) ~= "table" or #body.items == 0 then return nil, "items are required" end
  if #body.items > 50 then return nil, "at most 50 items per order" end
  local merged, order = {}, {}
  for i, item in ipairs(body.items) do
    if type(item) ~= "table" or type(item.product_id) ~= "string" then
      return nil, "item " .. i .. ": product_id is required"
    end
    local q = item.quantity
    if type(q) ~= "number" or q < 1 or q ~= math.floor(q) then
      return nil, "item " .. i .. ": quantity must be a positive integer"
    end
    if not merged[item.product_id] then order[#order + 1] = item.product_id end
    merged[item.product_id] = (merged[item.product_id] or 0) + q
  end
  local items = {}
  for _, id in ipairs(order) do items[#items + 1] = { product_id = id, quantity = merged[id] } end
  return { customer = body.customer:lower(), items = items }
end

-- Cents-exact money arithmetic on doubles.
function M.money(x)
  return math.floor(x * 100 + 0.5) / 100
end

return M
