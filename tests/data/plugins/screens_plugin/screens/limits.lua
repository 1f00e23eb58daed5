-- Yields one value chosen by ctx.params.case, each at or just past a limit.
local function rows(n)
  local out = {}
  for i = 1, n do out[i] = { "row " .. i, i } end
  return out
end

local function tree(depth)
  local node = { label = "leaf" }
  for i = depth - 1, 1, -1 do node = { label = "level " .. i, expanded = true, children = { node } } end
  return { node }
end

local function columns(n)
  local out = {}
  for i = 1, n do
    out[i] = { span = 1, cells = { { title = "c" .. i, content = { type = "text", lines = { "x" } } } } }
  end
  return out
end

local CASES = {
  rows = function() return { type = "table", headers = { "name", "n" }, rows = rows(10001) } end,
  rows_ok = function() return { type = "table", headers = { "name", "n" }, rows = rows(10000) } end,
  long = function() return { type = "text", lines = { string.rep("x", 10241) } } end,
  long_ok = function() return { type = "text", lines = { string.rep("x", 10240) } } end,
  deep = function() return { type = "tree", nodes = tree(21) } end,
  deep_ok = function() return { type = "tree", nodes = tree(20) } end,
  cols = function() return { type = "grid", columns = columns(13) } end,
  cols_ok = function() return { type = "grid", columns = columns(12) } end,
}

function screen(ctx)
  coroutine.yield(CASES[ctx.params.case]())
end
