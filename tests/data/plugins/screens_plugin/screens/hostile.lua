-- Misbehaves in the way ctx.params.case names, at start or (with later=1) on a key.
local CASES = {
  loop = function() while true do end end,
  pcall_loop = function()
    while true do pcall(function() while true do end end) end
  end,
  memory = function()
    local t = {}
    local i = 0
    while true do
      i = i + 1
      t[i] = string.rep("x", 4096) .. i
    end
  end,
  error = function() error("kaboom") end,
  ["function"] = function() coroutine.yield(function() end) end,
  thread = function() coroutine.yield(coroutine.create(function() end)) end,
  number = function() coroutine.yield(42) end,
  unknown = function() coroutine.yield({ type = "bogus" }) end,
  action = function() coroutine.yield({ action = "explode" }) end,
  cycle = function()
    local t = { type = "text" }
    t.lines = { t }
    coroutine.yield(t)
  end,
  nested_yield = function()
    -- a coroutine of its own that yields: only the screen's own yields count
    local co = coroutine.create(function() coroutine.yield("inner") end)
    coroutine.resume(co)
    coroutine.yield({ type = "text", lines = { "fine" } })
  end,
}

function screen(ctx)
  if ctx.params.later then
    coroutine.yield({ type = "text", lines = { "waiting" } })
  end
  CASES[ctx.params.case]()
  coroutine.yield({ type = "text", lines = { "survived" } })
end
