-- Patterns whose backtracking would take minutes to hours in Lua's C matcher.
plugin_info = { name = "attack_patterns", version = "1.0.0", description = "patterns" }

local a140 = string.rep("a", 140)

function attack_find()
  return string.find(a140, ".-.-.-.-.-b")
end

function attack_method_match()
  return a140:match("^(a-)(a-)(a-)(a-)(a-)b")
end

function attack_gmatch()
  local n = 0
  for w in string.gmatch(string.rep("a", 5000), "a-a-a-b") do n = n + 1 end
  return n
end

function attack_gsub()
  return string.gsub(string.rep("x", 20000), "x*x*x*y", "z")
end

function attack_plain_find()
  local hay = string.rep("a", 4 * 1024 * 1024)
  local needle = string.rep("a", 100000) .. "b"
  return hay:find(needle, 1, true)
end

function attack_repeat_calls()
  -- Each call is cheap enough to pass the guard; the loop must still be stopped.
  local s = string.rep("ab ", 200000)
  while true do s:find("%s*x") end
end

function ok_trim()
  local s = "   " .. string.rep("word ", 2000) .. "   "
  return #s:match("^%s*(.-)%s*$")
end

function ok_csv()
  local n = 0
  for field in string.gmatch(string.rep("abc,", 10000), "[^,]+") do n = n + 1 end
  return n
end
