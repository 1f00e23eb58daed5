plugin_info = { name = "no_tests_plugin", version = "1.0.0", description = "no test directory" }

function on_init() end
