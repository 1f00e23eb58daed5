-- Guarded string and table libraries of a plugin VM (Lua 5.1, chunk "=sandbox_stdlib").
--
-- Loaded by the kernel with an empty environment; everything arrives in the argument
-- table. Library functions implemented in C run outside the count hook's reach, so the
-- guards below (1) refuse calls whose worst case is ruinous (catastrophic pattern
-- backtracking, quadratic plain searches, gigantic string.rep) and (2) charge linear work
-- to the kernel's `heavy` counter, which reads the clock once enough has accumulated.
-- This chunk is not kernel code: the hook stops it like plugin code.

local P = ...
local type, tonumber, tostring, error, pairs, select = P.type, P.tonumber, P.tostring,
    P.error, P.pairs, P.select
local heavy = P.heavy
local max_string, pattern_budget, find_budget = P.max_string, P.pattern_budget,
    P.find_budget
local s_byte, s_sub, s_find, s_rep = P.string.byte, P.string.sub, P.string.find,
    P.string.rep
local s_gsub, s_match, s_gmatch = P.string.gsub, P.string.match, P.string.gmatch
local s_upper, s_lower, s_reverse = P.string.upper, P.string.lower, P.string.reverse
local t_concat, t_insert, t_remove, t_sort = P.table.concat, P.table.insert,
    P.table.remove, P.table.sort
local m_log = P.math.log
local SMALL = 4096

local function argerror(i, fname, msg, level)
  error("bad argument #" .. i .. " to '" .. fname .. "' (" .. msg .. ")", level or 3)
end

local function check_string(v, i, fname)
  local t = type(v)
  if t == "string" then return v end
  if t == "number" then return tostring(v) end
  argerror(i, fname, "string expected, got " .. (t == "nil" and "no value" or t), 4)
end

-- Upper bound of the steps Lua's backtracking matcher may take: for every quantified
-- item, at most 1 + (longest run of subject characters its class accepts) expansions,
-- multiplied over the items, times the number of start positions. Runs are measured
-- with linear single-class scans only when the cheap bound is already too high.
local function class_end(p, i)
  local c = s_sub(p, i, i)
  if c == "%" then
    if i >= #p then return nil end
    return i + 1
  elseif c == "[" then
    local j = i + 1
    if s_sub(p, j, j) == "^" then j = j + 1 end
    repeat
      if j > #p then return nil end
      local d = s_sub(p, j, j)
      j = j + 1
      if d == "%" then
        if j > #p then return nil end
        j = j + 1
      end
    until s_sub(p, j, j) == "]"
    return j
  end
  return i
end

local function longest_run(s, class)
  if class == "." then return #s end
  local best, init, n = 0, 1, #s
  local pat = class .. "+"
  while init <= n do
    local i, j = s_find(s, pat, init)
    if not i then break end
    if j - i + 1 > best then best = j - i + 1 end
    init = j + 1
  end
  return best
end

-- Returns a list of {class, kind} for the quantified items of `p`, plus the number of
-- %b items and back-references, or nil when the pattern cannot be parsed.
local function quantified_items(p)
  local items, linear, i, n = {}, 0, 1, #p
  if s_sub(p, 1, 1) == "^" then i = 2 end
  while i <= n do
    local c = s_sub(p, i, i)
    if c == "(" or c == ")" then
      i = i + 1
    elseif c == "$" and i == n then
      i = i + 1
    elseif c == "%" and (s_sub(p, i + 1, i + 1) == "b") then
      linear, i = linear + 1, i + 4
    elseif c == "%" and (s_sub(p, i + 1, i + 1) == "f") then
      local e = class_end(p, i + 2)
      if not e then return nil end
      i = e + 1
    elseif c == "%" and s_find(s_sub(p, i + 1, i + 1), "^%d") then
      linear, i = linear + 1, i + 2
    else
      local e = class_end(p, i)
      if not e then return nil end
      local q = s_sub(p, e + 1, e + 1)
      if q == "*" or q == "+" or q == "-" or q == "?" then
        items[#items + 1] = { s_sub(p, i, e), q }
        i = e + 2
      else
        i = e + 1
      end
    end
  end
  return items, linear
end

local function pattern_guard(fname, s, p, init, plain, anchored_ok)
  local n = #s
  if n > SMALL then heavy(n) end
  if plain or not s_find(p, "[%^%$%*%+%?%.%(%[%%%-]") then
    if n * #p > find_budget then
      error(fname .. ": search too expensive (" .. n .. " x " .. #p .. " bytes)", 3)
    end
    return
  end
  local starts = n + 1
  if anchored_ok and s_sub(p, 1, 1) == "^" then starts = 1 end
  if init and init > 1 then starts = starts - init + 1 end
  if starts < 1 then starts = 1 end
  local items, linear = quantified_items(p)
  if not items then
    if n > 1000 then error(fname .. ": pattern too complex for a long subject", 3) end
    return
  end
  local cost = starts * (#p + 1) * (n + 1) ^ linear
  for k = 1, #items do cost = cost * ((items[k][2] == "?") and 2 or (n + 1)) end
  if cost <= pattern_budget then return end
  cost = starts * (#p + 1) * (n + 1) ^ linear
  for k = 1, #items do
    local it = items[k]
    if it[2] == "?" then
      cost = cost * 2
    else
      cost = cost * (1 + longest_run(s, it[1]))
    end
    if cost > pattern_budget then
      error(fname .. ": pattern too expensive for this subject (possible catastrophic "
        .. "backtracking)", 3)
    end
  end
end

local sandbox_string = {}
for k, v in pairs(P.string) do sandbox_string[k] = v end

function sandbox_string.find(s, p, init, plain)
  s = check_string(s, 1, "find")
  p = check_string(p, 2, "find")
  local i = tonumber(init)
  if i and i < 0 then i = #s + i + 1 end
  pattern_guard("find", s, p, i, plain, true)
  return s_find(s, p, init, plain)
end

function sandbox_string.match(s, p, init)
  s = check_string(s, 1, "match")
  p = check_string(p, 2, "match")
  local i = tonumber(init)
  if i and i < 0 then i = #s + i + 1 end
  pattern_guard("match", s, p, i, false, true)
  return s_match(s, p, init)
end

function sandbox_string.gmatch(s, p)
  s = check_string(s, 1, "gmatch")
  p = check_string(p, 2, "gmatch")
  pattern_guard("gmatch", s, p, nil, false, false)
  return s_gmatch(s, p)
end
sandbox_string.gfind = sandbox_string.gmatch

function sandbox_string.gsub(s, p, repl, max_n)
  s = check_string(s, 1, "gsub")
  p = check_string(p, 2, "gsub")
  pattern_guard("gsub", s, p, nil, false, true)
  if type(repl) == "string" and #s > SMALL then heavy(#s) end
  return s_gsub(s, p, repl, max_n)
end

function sandbox_string.rep(s, n)
  s = check_string(s, 1, "rep")
  local count = tonumber(n)
  if count == nil then argerror(2, "rep", "number expected, got " .. type(n)) end
  if count < 1 or #s == 0 then return "" end
  if #s * count > max_string then error("rep: resulting string too large", 2) end
  heavy(#s * count)
  return s_rep(s, count)
end

function sandbox_string.dump()
  error("string.dump is not available to plugins (bytecode is refused)", 2)
end

local function linear_string(f)
  return function(s, ...)
    if type(s) == "string" and #s > SMALL then heavy(#s) end
    return f(s, ...)
  end
end
sandbox_string.upper = linear_string(s_upper)
sandbox_string.lower = linear_string(s_lower)
sandbox_string.reverse = linear_string(s_reverse)

local sandbox_table = {}
for k, v in pairs(P.table) do sandbox_table[k] = v end

function sandbox_table.insert(t, ...)
  if type(t) == "table" and select("#", ...) > 1 then heavy(#t) end
  return t_insert(t, ...)
end

function sandbox_table.remove(t, ...)
  if type(t) == "table" and select("#", ...) > 0 then heavy(#t) end
  return t_remove(t, ...)
end

function sandbox_table.concat(t, ...)
  if type(t) == "table" then heavy(#t) end
  return t_concat(t, ...)
end

-- Sorting without a comparator runs entirely in C, out of the hook's reach: charge it
-- (n log n) first, so a loop of large sorts is stopped between two of them.
function sandbox_table.sort(t, cmp)
  if type(t) == "table" then
    local n = #t
    if n > 64 then heavy(n * m_log(n)) end
  end
  return t_sort(t, cmp)
end

return sandbox_string, sandbox_table
