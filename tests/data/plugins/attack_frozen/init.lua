-- Tampering with frozen API modules and the string metatable.
plugin_info = { name = "attack_frozen", version = "1.0.0", description = "tampering" }

function attack_write_field()
  log.info = function() end
end

function attack_new_field()
  json.evil = true
end

function attack_table_key()
  json[{}] = true
end

function attack_setmetatable()
  return setmetatable(json, {})
end

function probe_getmetatable()
  return getmetatable(json)
end

function probe_enumerate()
  local n = 0
  for _ in pairs(json) do n = n + 1 end
  return n, #json, next(json)
end

function attack_string_metatable()
  local mt = getmetatable("")
  return pcall(function() mt.__index = {} end)
end

function attack_string_metatable_set()
  return pcall(setmetatable, "", {})
end

function probe_still_works()
  return json.encode({ a = 1 }), ("abc"):upper()
end

function attack_rebind()
  -- Rebinding the global is allowed for this execution only.
  json = { encode = function() return "fake" end }
  return json.encode({})
end
