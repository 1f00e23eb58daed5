-- Memory bombs. Each must end with a memory (or size) error; the host keeps running.
plugin_info = { name = "attack_memory", version = "1.0.0", description = "memory bombs" }

function attack_string_rep()
  return #string.rep("x", 2 ^ 31)
end

function attack_string_rep_method()
  local s = "abcdefgh"
  return #s:rep(100000000)
end

function attack_table_growth()
  local t = {}
  local i = 0
  while true do
    i = i + 1
    t[i] = { i, tostring(i) }
  end
end

function attack_concat()
  local s = "x"
  while true do s = s .. s end
end

function attack_concat_under_pcall()
  local keep = {}
  for round = 1, 1000 do
    pcall(function()
      local s = "y"
      while true do s = s .. s; keep[#keep + 1] = s end
    end)
  end
  return #keep
end

function attack_table_concat()
  local parts = {}
  for i = 1, 1000000 do parts[i] = "0123456789abcdef" end
  local s = table.concat(parts)
  return #(s .. s .. s)
end

function attack_huge_return()
  -- A shared subtable 30 levels deep is 2^30 nodes when walked: must be refused.
  local t = { "leaf" }
  for i = 1, 30 do t = { t, t } end
  return t
end

function attack_deep_return()
  local t = {}
  for i = 1, 100 do t = { t } end
  return t
end

function attack_cycle_return()
  local t = {}
  t.self = t
  return t
end

function ok()
  local t = {}
  for i = 1, 1000 do t[i] = i end
  return #t
end
