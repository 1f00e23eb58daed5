plugin_info = {
  name = "reload_plugin",
  version = "1.0.0",
  description = "Logs its version on init and shutdown",
}

function on_init()
  log.info("reload_plugin init", { version = plugin_info.version })
end

function on_shutdown()
  log.info("reload_plugin shutdown", { version = plugin_info.version })
end
