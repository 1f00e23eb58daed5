-- A plugin with a runaway query: three tables of 1000 rows that all share one join key,
-- so joining them yields a billion rows, and ordering the result makes SQLite visit every
-- one (minutes of work). The execution deadline must interrupt it (spec §4.3).
plugin_info = {
  name = "sql_deadline_plugin",
  version = "1.0.0",
  description = "Runaway SQL for the execution deadline",
}

local ROWS = 1000

local function seed(tbl, key, column)
  if db.count(tbl) >= ROWS then return end
  local rows = {}
  for i = 1, ROWS do rows[i] = { 1, i } end
  for first = 1, ROWS, 1000 do
    local batch = {}
    for i = first, math.min(first + 999, ROWS) do batch[#batch + 1] = rows[i] end
    local _, err = db.insert_many(tbl, { key, column }, batch)
    if err then error(err) end
  end
end

function on_init()
  db.define_table("rows_a", {
    columns = { { name = "ka", type = "integer", not_null = true }, { name = "n", type = "integer" } },
  })
  db.define_table("rows_b", {
    columns = { { name = "kb", type = "integer", not_null = true }, { name = "m", type = "integer" } },
  })
  db.define_table("rows_c", {
    columns = { { name = "kc", type = "integer", not_null = true }, { name = "o", type = "integer" } },
  })
  db.define_table("notes", { columns = { { name = "body", type = "text" } } })
  seed("rows_a", "ka", "n")
  seed("rows_b", "kb", "m")
  seed("rows_c", "kc", "o")
end

-- every triple of rows, ordered: the whole join is visited before the first row returns
function runaway()
  return db.query("rows_a", {
    columns = { "n", "m", "o" },
    joins = {
      { table = "rows_b", local_col = "ka", foreign_col = "kb" },
      { table = "rows_c", local_col = "ka", foreign_col = "kc" },
    },
    order_by = "o",
    desc = true,
    limit = 5,
  })
end

http.handle("GET", "/runaway", function()
  local rows, err = runaway()
  return { status = 200, json = { rows = rows, error = err } }
end, { public = true })

-- the same query inside a transaction that has written a note first
http.handle("POST", "/runaway-in-transaction", function()
  local ok, err = db.transaction(function()
    db.insert("notes", { body = "written before the runaway query" })
    runaway()
  end)
  return { status = 200, json = { ok = ok, error = err } }
end, { public = true })

http.handle("GET", "/quick", function()
  return { status = 200, json = { a = db.count("rows_a"), notes = db.count("notes") } }
end, { public = true })
