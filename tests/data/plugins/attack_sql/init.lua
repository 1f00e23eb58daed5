-- Identifier injection through every db argument that names something. Each probe
-- returns what the call returned (or the error it raised); none may reach SQL.
plugin_info = { name = "attack_sql", version = "1.0.0", description = "sql injection" }

function on_init()
  db.define_table("items", { columns = { { name = "title", type = "text" } } })
  db.insert("items", { title = "a" })
end

local function try(f, ...)
  local ok, a, b = pcall(f, ...)
  if not ok then return "raised: " .. tostring(a) end
  if a == nil then return "nil: " .. tostring(b) end
  return a
end

local payload = 'title"; DROP TABLE plugin_attack_sql_items; --'

function probes()
  return {
    table = try(db.query, 'items" UNION SELECT * FROM users --'),
    column = try(db.query, "items", { columns = { payload } }),
    where_key = try(db.query, "items", { where = { [payload] = 1 } }),
    order_by = try(db.query, "items", { order_by = "title DESC" }),
    order_by_expr = try(db.query, "items", { order_by = "(SELECT hash FROM users)" }),
    order_list = try(db.query, "items", { order_by = { { column = payload } } }),
    group_by = try(db.query, "items", { columns = { db.agg_count("*") }, group_by = { payload } }),
    agg = try(db.query, "items", { columns = { db.agg_sum(payload) } }),
    alias = try(db.query, "items", { columns = { db.agg_count("*", "x; DROP") } }),
    op = try(db.query, "items", { where = { title = { __op = "= 1 OR 1=1 --", __val = 1 } } }),
    join = try(db.query, "items", { joins = { { table = "users", local_col = "id", foreign_col = "id" } } }),
    insert_key = try(db.insert, "items", { [payload] = "x" }),
    update_set = try(db.update, "items", { set = { [payload] = "x" }, where = { title = "a" } }),
    index = try(db.create_index, "items", { columns = { payload } }),
    define = try(db.define_table, "evil; DROP TABLE x", { columns = { { name = "a", type = "text" } } }),
    keyword = try(db.define_table, "kw", { columns = { { name = "order", type = "text" } } }),
  }
end

function survivors()
  return db.count("items")
end
