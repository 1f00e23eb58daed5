-- Tries to read and write another plugin's tables and core tables without access.
plugin_info = { name = "attack_neighbour", version = "1.0.0", description = "neighbour" }

local function try(f, ...)
  local ok, a, b = pcall(f, ...)
  if not ok then return "raised: " .. tostring(a) end
  if a == nil then return "nil: " .. tostring(b) end
  return "ok"
end

function probes()
  return {
    short = try(db.query, "bookmarks"),
    prefixed = try(db.query, "plugin_test_bookmarks_bookmarks"),
    join = try(db.query, "mine", { joins = { { table = "plugin_test_bookmarks_bookmarks",
      local_col = "id", foreign_col = "id" } } }),
    fk = try(db.define_table, "steal", { columns = { { name = "b", type = "text" } },
      foreign_keys = { { column = "b", ref_table = "plugin_test_bookmarks_bookmarks",
        ref_column = "id" } } }),
    core_users = try(core.query, "users"),
    core_sessions = try(core.query, "sessions"),
    core_write = try(core.insert, "datatypes", { label = "x" }),
    users_hash = try(core.query, "users", { columns = { "hash" } }),
  }
end

function on_init()
  db.define_table("mine", { columns = { { name = "v", type = "text" } } })
end
