-- Pipeline registry fixture: capabilities (one without a table, which is ignored),
-- core access for the install summary, and a table of its own for orphan cleanup tests.
plugin_info = {
  name = "pipeline_plugin",
  version = "1.2.0",
  description = "Declares pipeline capabilities and keeps notes",
  author = "ModulaCMS tests",
  license = "MIT",
  capabilities = {
    { table = "content_data", op = "before_create", handler = "check_title", priority = 50 },
    { table = "content_data", op = "before_create", handler = "stamp_slug", priority = 10 },
    { table = "content_data", op = "after_publish", handler = "notify" },
    { op = "before_create", handler = "nameless", priority = 1 },
  },
  core_access = { content_data = { "read" } },
}

function on_init()
  db.define_table("notes", { columns = { { name = "body", type = "text", not_null = true } } })
end
