-- require() escape attempts: path traversal, absolute paths, symlinks out of lib/
-- (the test adds the symlinks), bytecode files, and modules that misbehave.
plugin_info = {
  name = "attack_require",
  version = "1.0.0",
  description = "require escapes",
}

function try(name)
  local ok, err = pcall(require, name)
  if ok then return "loaded" end
  return err
end

function inner_error()
  return pcall(require, "broken")
end
