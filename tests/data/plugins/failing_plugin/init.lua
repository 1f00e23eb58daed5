-- on_init raises: the plugin ends up "failed" with reason "on_init failed: ...".
plugin_info = {
  name = "failing_plugin",
  version = "1.0.0",
  description = "Fails during on_init",
}

function on_init()
  error("intentional failure for testing")
end
