plugin_info = {
  name = "hooks_publish_plugin",
  version = "1.0.0",
  description = "before_publish and after_publish on content_data",
}

hooks.on("before_publish", "content_data", function(data)
  log.info("before_publish", { status = data.status })
end)

hooks.on("after_publish", "content_data", function(data)
  log.info("after_publish", { status = data.status })
end)
