-- Second pipeline registry fixture: shares a key and a priority with pipeline_plugin, so
-- chain order falls back to the plugin name.
plugin_info = {
  name = "pipeline_rival",
  version = "0.3.0",
  description = "Competes for the content_data.before_create chain",
  capabilities = {
    { table = "content_data", op = "before_create", handler = "audit", priority = 10 },
  },
}
