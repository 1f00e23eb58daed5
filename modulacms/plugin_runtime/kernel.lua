-- The trusted kernel of one plugin VM (Lua 5.1, loaded as chunk "=sandbox_kernel").
--
-- It runs once per LuaRuntime, before any plugin code, while the real globals still hold
-- debug, coroutine and the raw functions. It captures everything it needs as upvalues,
-- then builds the plugin's environment: a separate table holding only the functions of
-- spec section 2.2, several of them replaced by guarded versions. Plugin code never sees
-- the real globals, the debug library, this chunk's upvalues or any Python object: the
-- host callbacks live only in upvalues of the closures defined here.
--
-- Time and instructions: a count hook runs every `interval` VM instructions on every
-- thread (coroutines get it when created through the guarded coroutine library). When an
-- execution's deadline or instruction budget is exhausted the hook "trips": from then on
-- it raises on every instruction of any function not defined in this chunk, so pcall,
-- xpcall, nested coroutines and error handlers cannot swallow it. Between executions the
-- kernel stays tripped, so stray plugin code (a kept coroutine, a metamethod) cannot run.
--
-- Memory: the runtime's allocator limit is `limit + headroom` while the host works and
-- `limit` while plugin code runs (host.tighten / host.relax), so host-side pushes always
-- have room and a plugin that fills its heap only ever gets an ordinary Lua error.

local host, config = ...

local KERNEL = "=sandbox_kernel"
local MEMERR = "not enough memory"
local INACTIVE = "plugin code cannot run outside an execution"

local clock, relax, tighten = host.clock, host.relax, host.tighten
local host_print, host_source = host.print, host.source
local interval, short_interval = config.interval, config.short_interval
local big_heap_kb = config.big_heap_kb
local max_string = config.max_string
local pattern_budget, find_budget = config.pattern_budget, config.find_budget
local heavy_step = config.heavy_step
local limit_kb = config.limit_kb
local gc_trigger_kb = limit_kb * 0.7

local type, error, pcall, select, next, tostring, tonumber =
    type, error, pcall, select, next, tostring, tonumber
local rawget, rawset, rawequal, setmetatable, getmetatable =
    rawget, rawset, rawequal, setmetatable, getmetatable
local getfenv, setfenv, loadstring, ipairs, pairs = getfenv, setfenv, loadstring, ipairs, pairs
local collectgarbage, gcinfo = collectgarbage, gcinfo
local sethook, getinfo = debug.sethook, debug.getinfo
local co_create, co_resume, co_running, co_status =
    coroutine.create, coroutine.resume, coroutine.running, coroutine.status
local s_byte, s_sub, s_gsub = string.byte, string.sub, string.gsub
local t_concat, unpack = table.concat, unpack
local m_floor = math.floor
local real_G = getfenv(1)

------------------------------------------------------------------------------------------
-- execution state and the count hook

local armed = false            -- a checkout is in progress (host called arm)
local tripped = true           -- plugin code must stop at its next instruction
local trip_kind = "inactive"   -- "inactive" | "timeout" | "budget"
local trip_msg = INACTIVE
local deadline, instr_left = 0, 0
local timeout_msg, budget_msg = "", ""
local heavy_work = 0
local MAIN = {}                -- key of the main thread in `hot`
local hot = setmetatable({}, { __mode = "k" })   -- threads whose hook count is 1
local slow = setmetatable({}, { __mode = "k" })  -- threads on the short interval

local hook

local function in_kernel(level)
  local info = getinfo(level + 1, "S")
  return info ~= nil and info.source == KERNEL
end

-- Make the current thread raise at its very next instruction.
local function heat()
  hot[co_running() or MAIN] = true
  sethook(hook, "", 1)
end

local function trip(kind, msg)
  tripped, trip_kind, trip_msg = true, kind, msg
end

hook = function()
  local thread = co_running() or MAIN
  if tripped then
    if in_kernel(2) then return end
    if not hot[thread] then heat() end
    error(trip_msg, 0)
  end
  local current = hot[thread] and 1 or (slow[thread] and short_interval or interval)
  instr_left = instr_left - current
  -- A large heap means single instructions can be expensive (concatenating megabytes),
  -- so the clock is read more often there. Lua 5.1 has no emergency collection, so a
  -- heap near the limit is collected here before garbage can make an allocation fail.
  local kb = gcinfo()
  if kb > gc_trigger_kb then
    collectgarbage("collect")
    kb = gcinfo()
    gc_trigger_kb = kb + limit_kb / 8
    if gc_trigger_kb < limit_kb * 0.7 then gc_trigger_kb = limit_kb * 0.7 end
  end
  local want_slow = kb > big_heap_kb
  local want = want_slow and short_interval or interval
  if want ~= current then
    hot[thread], slow[thread] = nil, want_slow or nil
    sethook(hook, "", want)
  end
  if instr_left < 0 then
    trip("budget", budget_msg)
  elseif clock() > deadline then
    trip("timeout", timeout_msg)
  else
    return
  end
  heat()
  if in_kernel(2) then return end
  error(trip_msg, 0)
end

-- Charge `units` of work done inside a C function; reads the clock once enough work has
-- accumulated, so a loop of expensive library calls cannot outrun the deadline.
local function heavy(units)
  heavy_work = heavy_work + units
  if heavy_work < heavy_step then return end
  heavy_work = 0
  if tripped then return end
  if clock() > deadline then
    trip("timeout", timeout_msg)
    heat()
    error(trip_msg, 0)
  end
end

------------------------------------------------------------------------------------------
-- values crossing into the host are read raw and bounded by the host's converter
-- (convert.from_lua): no metamethod runs, depth and size are limited there.

local function describe(e)
  local t = type(e)
  if t == "string" then return e end
  if t == "number" then return tostring(e) end
  return "(error object is a " .. t .. " value)"
end

------------------------------------------------------------------------------------------
-- running plugin code

local function settle(ok, ...)
  relax()
  -- The main thread may be "hot" (hook on every instruction) after a trip; the kernel's
  -- own clean-up should not pay for that. Plugin code still cannot run: `tripped` stays.
  hot[MAIN], slow[MAIN] = nil, nil
  sethook(hook, "", interval)
  local kind
  if tripped and trip_kind ~= "inactive" then
    kind = trip_kind
  elseif ok then
    kind = "ok"
  elseif (...) == MEMERR then
    kind = "memory"
  else
    kind = "error"
  end
  if not tripped then trip("inactive", INACTIVE) end
  if kind ~= "ok" then
    if kind == "timeout" or kind == "budget" then return kind, trip_msg end
    return kind, describe((...))
  end
  return "ok", ...
end

local K = {}

-- Start a checkout: a wall-clock deadline (host clock, seconds) and an instruction budget.
function K.arm(at, budget, tmsg, bmsg)
  deadline, instr_left = at, budget
  timeout_msg, budget_msg = tmsg, bmsg
  heavy_work = 0
  armed = true
  trip("inactive", INACTIVE)
end

-- End a checkout: nothing may run until the next arm.
function K.disarm()
  armed = false
  trip("inactive", INACTIVE)
end

-- Call plugin function `fn` under the current checkout. Returns a status string
-- ("ok", "error", "memory", "timeout", "budget") followed by the results (ok) or a
-- message. The host converts results with its bounded, raw converter.
function K.run(fn, ...)
  if not armed then return "error", "no checkout is armed" end
  if trip_kind == "timeout" or trip_kind == "budget" then return trip_kind, trip_msg end
  if type(fn) ~= "function" then return "error", "attempt to call a " .. type(fn) .. " value" end
  tripped, trip_kind = false, nil
  hot[MAIN], slow[MAIN] = nil, nil
  sethook(hook, "", interval)
  tighten()
  return settle(pcall(fn, ...))
end

-- A whole execution in one host call: arm, run, disarm and, when `keep` is given, drop
-- the globals the run created (see K.reset_globals). Each call from the host releases
-- the GIL and must win it back, so hooks, which run once per checkout, use this instead
-- of four separate calls. Returns `intact` (true when keep is nil) and K.run's results.
local function finish_once(keep, modules, ...)
  K.disarm()
  if keep == nil then return true, ... end
  return K.reset_globals(keep, modules), ...
end

function K.run_once(at, budget, tmsg, bmsg, keep, modules, fn, ...)
  K.arm(at, budget, tmsg, bmsg)
  return finish_once(keep, modules, K.run(fn, ...))
end

function K.remaining()
  return instr_left
end

------------------------------------------------------------------------------------------
-- host functions as Lua closures (the Python callable stays an upvalue)

local RAISE, TIMEOUT = 1, 2
local HOST_FAILED = "internal error in host function"

-- Wrap Python callable `fn`. It receives the raw arguments and returns
-- (status, count, a, b): status 0 = return `count` values (0..2), 1 = raise `a`,
-- 2 = the execution's deadline passed inside the host (an interrupted query): trip
-- as the count hook would, with `a` as the message, so pcall cannot swallow it.
function K.host_function(fn)
  return function(...)
    relax()
    local ok, status, n, a, b = pcall(fn, ...)
    tighten()
    if not ok then error(HOST_FAILED, 2) end
    if status == RAISE then error(a, 2) end
    if status == TIMEOUT then
      trip("timeout", a)
      heat()
      error(a, 2)
    end
    if n == 0 then return end
    if n == 1 then return a end
    return a, b
  end
end

-- A host callback for kernel-level glue (no argument checks, same protocol).
function K.call_host(fn, ...)
  relax()
  local ok, status, n, a, b = pcall(fn, ...)
  tighten()
  if not ok then return false, HOST_FAILED end
  if status == RAISE then return false, a end
  if status == TIMEOUT then
    trip("timeout", a)
    heat()
    return false, a
  end
  return true, n, a, b
end

------------------------------------------------------------------------------------------
-- guarded standard library

local env = {}

local function argerror(i, fname, msg)
  error("bad argument #" .. i .. " to '" .. fname .. "' (" .. msg .. ")", 3)
end

local function check_string(v, i, fname)
  local t = type(v)
  if t == "string" then return v end
  if t == "number" then return tostring(v) end
  error("bad argument #" .. i .. " to '" .. fname .. "' (string expected, got "
    .. (t == "nil" and "no value" or t) .. ")", 3)
end

-- The guarded string and table libraries live in their own chunk ("=sandbox_stdlib"):
-- they do plugin-sized work (measuring pattern costs), so the hook must be able to stop
-- them like plugin code.
local stdlib_env = {}
local stdlib = loadstring(host.stdlib, "=sandbox_stdlib")
setfenv(stdlib, stdlib_env)
local sandbox_string, sandbox_table = stdlib({
  string = string, table = table, heavy = heavy,
  tonumber = tonumber, tostring = tostring, type = type, error = error, pairs = pairs,
  select = select, math = math,
  max_string = max_string, pattern_budget = pattern_budget, find_budget = find_budget,
})

local sandbox_math = {}
for k, v in pairs(math) do sandbox_math[k] = v end

------------------------------------------------------------------------------------------
-- coroutines: every new thread gets the hook (Lua 5.1 hooks are per thread)

local sandbox_coroutine = {}
for k, v in pairs(coroutine) do sandbox_coroutine[k] = v end

function sandbox_coroutine.create(f)
  if type(f) ~= "function" then argerror(1, "create", "Lua function expected") end
  local co = co_create(f)
  sethook(co, hook, "", interval)
  return co
end

-- Drop a finished thread's entry from the debug library's per-thread hook table.
local function resumed(co, ...)
  if co_status(co) == "dead" then sethook(co) end
  return ...
end

function sandbox_coroutine.resume(co, ...)
  if type(co) ~= "thread" then argerror(1, "resume", "coroutine expected") end
  return resumed(co, co_resume(co, ...))
end

local function wrap_result(ok, ...)
  if ok then return ... end
  local e = ...
  error(e, 0)
end

function sandbox_coroutine.wrap(f)
  local co = sandbox_coroutine.create(f)
  return function(...)
    return wrap_result(resumed(co, co_resume(co, ...)))
  end
end

------------------------------------------------------------------------------------------
-- base functions

local function protected_env(e)
  return e == real_G or e == stdlib_env
end

local function safe_getfenv(f)
  if f == nil then f = 1 end
  if type(f) == "number" then
    if f < 0 then argerror(1, "getfenv", "level must be non-negative") end
    if f == 0 then return env end
    local ok, e = pcall(getfenv, f + 2)
    if not ok then argerror(1, "getfenv", "invalid level") end
    if protected_env(e) then return env end
    return e
  end
  if type(f) ~= "function" then argerror(1, "getfenv", "function or level expected") end
  local e = getfenv(f)
  if protected_env(e) then return env end
  return e
end

local function safe_setfenv(f, t)
  if type(t) ~= "table" then argerror(2, "setfenv", "table expected, got " .. type(t)) end
  if type(f) == "number" then
    if f <= 0 then error("'setfenv' cannot change the environment of the thread", 2) end
    local ok, e = pcall(getfenv, f + 2)
    if not ok then argerror(1, "setfenv", "invalid level") end
    if protected_env(e) then
      error("'setfenv' cannot change the environment of a host function", 2)
    end
    local done, err = pcall(setfenv, f + 2, t)
    if not done then error(err, 2) end
    return
  end
  if type(f) ~= "function" then argerror(1, "setfenv", "function or level expected") end
  if protected_env(getfenv(f)) then
    error("'setfenv' cannot change the environment of a host function", 2)
  end
  return setfenv(f, t)
end

local function chunk_name(name)
  if type(name) ~= "string" then return "=loadstring" end
  return "=loadstring:" .. s_sub(s_gsub(name, "[^%w%._/%-]", "_"), 1, 60)
end

-- Compile text (never bytecode) into a function of `fenv`.
local function compile(src, name, fenv)
  if s_byte(src, 1) == 27 then return nil, "binary chunks are not allowed" end
  heavy(#src)
  local f, err = loadstring(src, name)
  if not f then return nil, err end
  setfenv(f, fenv)
  return f
end

local function safe_loadstring(src, name)
  src = check_string(src, 1, "loadstring")
  return compile(src, chunk_name(name), env)
end

local function xpcall_finish(handler, ok, ...)
  if ok then return true, ... end
  local handled, value = pcall(handler, (...))
  if not handled then return false, "error in error handling" end
  return false, value
end

-- The real xpcall runs its handler at the error point, which for the hook's own error is
-- inside the hook, where Lua disables hooks: a looping handler could never be stopped.
-- This one runs the handler after unwinding.
local function safe_xpcall(f, handler)
  return xpcall_finish(handler, pcall(f))
end

local GC_OPTIONS = { collect = true, count = true, step = true }
local function safe_collectgarbage(opt, arg)
  if opt == nil then opt = "collect" end
  if not GC_OPTIONS[opt] then
    argerror(1, "collectgarbage", "option '" .. tostring(opt) .. "' is not available")
  end
  if opt ~= "count" then heavy(heavy_step) end
  return collectgarbage(opt, arg)
end

local function safe_print(...)
  local n = select("#", ...)
  local parts = {}
  for i = 1, n do parts[i] = tostring((select(i, ...))) end
  K.call_host(host_print, t_concat(parts, "\t"))
end

local function safe_module()
  error("module() is not available to plugins; return a table from lib/<name>.lua", 2)
end

------------------------------------------------------------------------------------------
-- require: lib/<name>.lua only; the host resolves and reads the file

local loaded = {}

local function safe_require(name)
  if type(name) ~= "string" then argerror(1, "require", "string expected, got " .. type(name)) end
  local cached = loaded[name]
  if cached ~= nil then return cached end
  local ok, n, src, chunk = K.call_host(host_source, name)
  if not ok then error(n, 2) end
  local f, err = compile(src, chunk, env)
  if not f then error('error loading module "' .. name .. '": ' .. describe(err), 2) end
  local done, result = pcall(f, name)
  if not done then
    error('error loading module "' .. name .. '": ' .. describe(result), 2)
  end
  if result == nil then result = name end
  loaded[name] = result
  return result
end

------------------------------------------------------------------------------------------
-- the environment

local BASE = {
  "assert", "error", "pcall", "type", "tostring", "tonumber", "pairs", "ipairs", "next",
  "select", "unpack", "setmetatable", "getmetatable",
}

function K.build_env(with_coroutines)
  for _, name in ipairs(BASE) do env[name] = real_G[name] end
  env.xpcall = safe_xpcall
  env.collectgarbage = safe_collectgarbage
  env.getfenv = safe_getfenv
  env.setfenv = safe_setfenv
  env.loadstring = safe_loadstring
  env.print = safe_print
  env.module = safe_module
  env.require = safe_require
  env._VERSION = "Lua 5.1"
  env._G = env
  env.string = sandbox_string
  env.table = sandbox_table
  env.math = sandbox_math
  if with_coroutines then env.coroutine = sandbox_coroutine end
  -- Method calls on strings ("s:upper()") go through the plugin's own string table; the
  -- metatable itself is locked.
  local smt = getmetatable("")
  smt.__index = sandbox_string
  smt.__metatable = "protected"
  return env
end

-- A frozen module: an empty proxy whose reads go to `real`, whose writes raise and whose
-- metatable is hidden.
function K.freeze(name, real)
  local proxy = {}
  setmetatable(proxy, {
    __index = real,
    __newindex = function(_, key, _)
      local tk = type(key)
      if tk ~= "string" and tk ~= "number" then
        error("bad argument #2 to '__newindex' (string expected, got " .. tk .. ")", 2)
      end
      error("bad argument #2 to '__newindex' (cannot modify frozen module \"" .. name
        .. "\" (key \"" .. tostring(key) .. "\"))", 2)
    end,
    __metatable = "protected",
  })
  return proxy
end

function K.set_global(name, value)
  rawset(env, name, value)
end

function K.get_global(name)
  return rawget(env, name)
end

-- Compile plugin source text as a function of the plugin environment.
function K.compile(src, name)
  return compile(src, name, env)
end

-- Compile trusted glue code (host API modules written in Lua). The chunk receives the
-- kernel table and runs at once; whatever it returns is returned.
function K.trusted(src, ...)
  local f, err = loadstring(src, KERNEL)
  if not f then error(err, 0) end
  return f(K, ...)
end

-- Names of the environment's globals, for the post-init snapshot.
function K.global_names()
  local names, k = {}, next(env)
  while k ~= nil do
    names[k] = true
    k = next(env, k)
  end
  return names
end

-- Delete every global whose name is not in `keep`; returns false when an API module
-- binding was replaced (the VM must then be discarded).
function K.reset_globals(keep, modules)
  local doomed, k = {}, next(env)
  while k ~= nil do
    if not keep[k] then doomed[#doomed + 1] = k end
    k = next(env, k)
  end
  for i = 1, #doomed do rawset(env, doomed[i], nil) end
  local intact = true
  for name, proxy in next, modules do
    if not rawequal(rawget(env, name), proxy) then intact = false end
  end
  return intact
end

-- Source and line of the function `level` frames above the caller (trusted glue uses it
-- to point test failures at the plugin's line).
function K.where(level)
  local info = getinfo(level + 1, "Sl")
  if info == nil then return "?", 0 end
  return info.short_src, info.currentline
end

function K.global_type(name)
  return type(rawget(env, name))
end

------------------------------------------------------------------------------------------
-- database rows pushed by the host in bulk

-- A constructor of row tables with the given keys: row(f, i) takes the values f[i+1] ..
-- f[i+#keys] (a nil leaves its key out). The generated text only indexes `keys` by
-- number, so no key text is ever compiled; the table constructor sizes each row at once.
function K.row_builder(keys)
  local parts = { "local keys = ...\nreturn function(f, i)\nreturn {" }
  for j = 1, #keys do
    parts[#parts + 1] = "[keys[" .. j .. "]]=f[i+" .. j .. "],"
  end
  parts[#parts + 1] = "}\nend\n"
  return loadstring(t_concat(parts), KERNEL)(keys)
end

-- `count` rows from one flat list of values; row r is made by ctors[shape[r]] (by
-- ctors[1] for every row when `shape` is nil) from widths[...] values.
function K.build_rows(ctors, widths, shape, flat, count)
  local rows, i = {}, 0
  if shape == nil then
    local row, width = ctors[1], widths[1]
    for r = 1, count do
      rows[r] = row(flat, i)
      i = i + width
    end
    return rows
  end
  for r = 1, count do
    local s = shape[r]
    rows[r] = ctors[s](flat, i)
    i = i + widths[s]
  end
  return rows
end

-- The rows of list `t` (length `n`) when every row is a table with the same string keys
-- as the first: returns width, total, flat where flat[1..width] are the keys and each row
-- follows with its values in key order; nil for any other shape. Read raw, so no plugin
-- metamethod runs. Lets the host take a list of rows in a few calls instead of one
-- iteration per row.
function K.rows_flat(t, n)
  local first = rawget(t, 1)
  if type(first) ~= "table" then return nil end
  local flat, index, width = {}, {}, 0
  for k in next, first do
    if type(k) ~= "string" then return nil end
    width = width + 1
    flat[width] = k
    index[k] = width
  end
  if width == 0 then return nil end
  local base = width
  for r = 1, n do
    local row = rawget(t, r)
    if type(row) ~= "table" then return nil end
    local count = 0
    for k, v in next, row do
      local at = index[k]
      if at == nil then return nil end
      flat[base + at] = v
      count = count + 1
    end
    if count ~= width then return nil end
    base = base + width
  end
  return width, base, flat
end

-- Values i..j of list t as multiple results (the host asks for at most a few thousand).
function K.slice(t, i, j)
  return unpack(t, i, j)
end

K.describe = describe
K.heavy = heavy
K.in_kernel = in_kernel
K.RAISE = RAISE

-- Close the door behind us: nothing reachable from the real globals is needed any more,
-- and lupa consults the real globals' `debug` on every call from the host.
real_G.debug = nil
real_G.python = nil
real_G.package = nil
real_G.io = nil
real_G.os = nil
real_G.require = nil
real_G.dofile = nil
real_G.loadfile = nil
real_G.load = nil
real_G.newproxy = nil

return K
