-- Infinite loops in every place the sandbox must reach. Each attack_* function never
-- returns on its own; the runtime must stop it with a timeout or budget error.
plugin_info = { name = "attack_loops", version = "1.0.0", description = "endless loops" }

function attack_plain()
  while true do end
end

function attack_under_pcall()
  while true do
    pcall(function() while true do end end)
  end
end

function attack_nested_pcall()
  while true do pcall(pcall, pcall, function() while true do end end) end
end

function attack_xpcall_handler()
  while true do
    xpcall(function() error("boom") end, function() while true do end end)
  end
end

function attack_coroutine()
  local co = coroutine.create(function() while true do end end)
  return coroutine.resume(co)
end

function attack_coroutine_under_pcall()
  while true do
    local co = coroutine.wrap(function() while true do end end)
    pcall(co)
  end
end

function attack_tostring_metamethod()
  local t = setmetatable({}, { __tostring = function() while true do end end })
  print(t)
end

function attack_index_metamethod()
  local t = setmetatable({}, { __index = function() while true do end end })
  return t.anything
end

function attack_sort_comparator()
  local t = { 3, 1, 2 }
  table.sort(t, function() while true do end end)
end

function attack_gsub_callback()
  return string.gsub("aaaa", "a", function() while true do end end)
end

function attack_finalizer()
  -- Lua 5.1 never runs __gc for tables; the loop must never execute anywhere.
  setmetatable({}, { __gc = function() while true do end end })
  collectgarbage()
  return "survived"
end

-- A coroutine kept alive across executions: resuming it later must still be stopped.
kept = coroutine.create(function()
  coroutine.yield("first")
  while true do end
end)

function attack_kept_coroutine()
  return coroutine.resume(kept)
end

function attack_error_object_loop()
  local e = setmetatable({}, { __tostring = function() while true do end end })
  error(e)
end

function ok()
  return "still alive"
end
