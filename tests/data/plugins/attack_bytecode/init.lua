-- Bytecode in every form the runtime accepts code: loadstring, string.dump, require.
plugin_info = { name = "attack_bytecode", version = "1.0.0", description = "bytecode" }

function attack_loadstring()
  return loadstring("\27LuaQ\0\1\4\8\4\8\0")
end

function attack_dump()
  return string.dump(function() return 1 end)
end

function attack_require()
  return require("precompiled")
end
