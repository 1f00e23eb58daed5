plugin_info = {
  name = "hooks_wildcard_plugin",
  version = "1.0.0",
  description = "wildcard before_create and after_update",
}

hooks.on("before_create", "*", function(data)
  log.info("wildcard before_create", { table = data._table })
end)

hooks.on("after_update", "*", function(data)
  log.info("wildcard after_update", { table = data._table })
end)
