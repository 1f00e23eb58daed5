-- Deep recursion through Lua calls, pcall (C stack), metamethods and coroutines.
plugin_info = { name = "attack_recursion", version = "1.0.0", description = "recursion" }

function attack_lua_recursion()
  local function f(n) return 1 + f(n + 1) end
  return f(1)
end

function attack_pcall_recursion()
  local function f() local ok, e = pcall(f); error(e, 0) end
  return f()
end

function attack_metamethod_recursion()
  local t = setmetatable({}, {})
  getmetatable(t).__index = function(self, k) return self[k] end
  return t.x
end

function attack_coroutine_recursion()
  local function nest()
    local co = coroutine.create(nest)
    local ok, e = coroutine.resume(co)
    error(e, 0)
  end
  return nest()
end

function attack_tostring_recursion()
  local t = setmetatable({}, {})
  getmetatable(t).__tostring = function(self) return tostring(self) end
  return tostring(t)
end

function ok()
  return "fine"
end
