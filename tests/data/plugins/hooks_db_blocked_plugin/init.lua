plugin_info = {
  name = "hooks_db_blocked_plugin",
  version = "1.0.0",
  description = "db calls inside a before-hook are refused",
}

hooks.on("before_create", "content_data", function(data)
  db.query("some_table")
end)
