-- on_init never returns: the plugin must end up "failed" once plugin_timeout passes.
plugin_info = {
  name = "timeout_plugin",
  version = "1.0.0",
  description = "Infinite loop in on_init",
}

function on_init()
  while true do end
end
