plugin_info = {
  name = "hooks_plugin",
  version = "1.0.0",
  description = "before_create and after_create on content_data",
}

hooks.on("before_create", "content_data", function(data)
  log.info("hooks_plugin before_create", { table = data._table, event = data._event })
end)

hooks.on("after_create", "content_data", function(data)
  log.info("hooks_plugin after_create", { table = data._table, event = data._event })
end)
