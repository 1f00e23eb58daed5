-- Phase 1 integration plugin: tables, CRUD, transactions and lib/ modules.
plugin_info = {
  name = "test_bookmarks",
  version = "1.0.0",
  description = "Phase 1 integration test plugin",
  author = "Modula Test Suite",
}

local validators = require("validators")

local function check(cond, msg)
  if not cond then error("check failed: " .. msg, 2) end
end

function on_init()
  db.define_table("collections", {
    columns = {
      { name = "name", type = "text", not_null = true, unique = true },
      { name = "position", type = "integer", default = 0 },
      { name = "public", type = "boolean" },
      { name = "meta", type = "json" },
    },
    indexes = { { columns = { "position" } }, { columns = { "name", "position" }, unique = true } },
  })
  db.define_table("bookmarks", {
    columns = {
      { name = "collection_id", type = "text", not_null = true },
      { name = "title", type = "text", not_null = true },
      { name = "url", type = "text", not_null = true },
      { name = "rating", type = "real" },
      { name = "favicon", type = "blob" },
      { name = "visited_at", type = "timestamp" },
    },
    foreign_keys = {
      { column = "collection_id", ref_table = "plugin_test_bookmarks_collections",
        ref_column = "id", on_delete = "CASCADE" },
    },
  })

  local id = db.ulid()
  check(#id == 26, "ulid length")
  check(db.timestamp():match("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%dZ$"), "timestamp format")
  check(db.timestamp_ago(3600) < db.timestamp(), "timestamp_ago orders before now")

  local work = db.ulid()
  check(db.insert("collections", { id = work, name = "Work", position = 1, public = true,
    meta = json.encode({ color = "blue" }) }) == nil, "insert work")
  local fun = db.ulid()
  db.insert("collections", { id = fun, name = "Fun", position = 2, public = false })
  check(#db.query("collections") == 2, "two collections")
  check(db.query_one("collections", { where = { name = "Work" } }).id == work, "query_one hit")
  check(db.query_one("collections", { where = { name = "Nope" } }) == nil, "query_one miss")
  check(db.count("collections") == 2, "count")
  check(db.exists("collections", { where = { name = "Fun" } }), "exists")

  local candidates = {
    { title = "  Lua  ", url = "https://www.lua.org" },
    { title = "Modula", url = "https://example.com/modula" },
    { title = "Broken", url = "not a url" },
    { title = "Docs", url = "http://docs.example.com" },
  }
  for _, c in ipairs(candidates) do
    if validators.is_valid_url(c.url) then
      db.insert("bookmarks", { collection_id = work, title = validators.trim(c.title),
        url = c.url, rating = 4.5 })
    end
  end
  check(db.count("bookmarks") == 3, "three bookmarks")
  local sorted = db.query("bookmarks", { order_by = "title", limit = 2 })
  check(#sorted == 2 and sorted[1].title == "Docs" and sorted[2].title == "Lua", "order_by + limit")

  db.update("bookmarks", { set = { rating = 5 }, where = { title = "Lua" } })
  check(db.query_one("bookmarks", { where = { title = "Lua" } }).rating == 5, "update")
  db.delete("bookmarks", { where = { title = "Docs" } })
  check(db.count("bookmarks") == 2, "delete")

  local ok = db.transaction(function()
    db.insert("bookmarks", { collection_id = fun, title = "In tx", url = "https://tx.example" })
    check(db.count("bookmarks", { where = { title = "In tx" } }) == 1, "tx sees its own write")
  end)
  check(ok == true, "committed transaction")
  local rolled, err = db.transaction(function()
    db.insert("bookmarks", { collection_id = fun, title = "Rolled", url = "https://rb.example" })
    error("roll back please")
  end)
  check(rolled == false and err:find("roll back please"), "rolled back transaction")
  check(db.count("bookmarks", { where = { title = "Rolled" } }) == 0, "rollback undid insert")
  check(db.count("bookmarks") == 3, "three bookmarks after transactions")
end
