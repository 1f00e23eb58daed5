plugin_info = {
  name = "hooks_abort_plugin",
  version = "1.0.0",
  description = "before_create always aborts",
}

hooks.on("before_create", "content_data", function(data)
  error("validation failed: title is required")
end)
