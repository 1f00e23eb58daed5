plugin_info = {
  name = "sandbox_test_plugin",
  version = "1.0.0",
  description = "require() from lib/",
}

local helpers = require("helpers")

function greet_world()
  return helpers.greet("world")
end

function same_table()
  return require("helpers") == helpers
end

function try_require(name)
  local ok, err = pcall(require, name)
  return ok, err
end
