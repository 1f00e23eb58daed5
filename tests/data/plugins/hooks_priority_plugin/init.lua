plugin_info = {
  name = "hooks_priority_plugin",
  version = "1.0.0",
  description = "three before_update hooks with priorities 50, 200 and the default",
}

hooks.on("before_update", "content_data", function(data)
  log.info("priority 200")
end, { priority = 200 })

hooks.on("before_update", "content_data", function(data)
  log.info("priority default")
end)

hooks.on("before_update", "content_data", function(data)
  log.info("priority 50")
end, { priority = 50 })
