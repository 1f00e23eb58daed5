-- Attempts to reach the host: Python objects, debug, os, io, package and the real
-- globals. Every probe returns what it found; all must come back empty.
plugin_info = { name = "attack_escape", version = "1.0.0", description = "escape attempts" }

local function found(...)
  local out = {}
  for i = 1, select("#", ...) do
    local v = select(i, ...)
    if v ~= nil then out[#out + 1] = type(v) end
  end
  return table.concat(out, ",")
end

function probe_globals()
  return found(python, debug, os, io, package, load, dofile, loadfile, rawget, rawset,
    rawequal, newproxy, gcinfo, rawlen, jit, bit, ffi, channel)
end

function probe_fenv()
  -- getfenv of host functions and of the thread must give the plugin's own globals.
  local real = { getfenv(0), getfenv(print), getfenv(pcall), getfenv(string.find) }
  for _, e in ipairs(real) do
    if e ~= _G then return "escaped" end
    if rawequal ~= nil or e.debug ~= nil or e.python ~= nil then return "escaped" end
  end
  return "contained"
end

function probe_setfenv_thread()
  return pcall(setfenv, 0, setmetatable({}, { __index = function() error("x") end }))
end

function probe_setfenv_host()
  return pcall(setfenv, print, {})
end

function probe_string_metatable()
  return getmetatable("")
end

function probe_host_error()
  -- Errors raised by host functions reach plugin code as plain strings only.
  local ok, err = pcall(require, 42)
  return type(err)
end

function probe_loadstring_env()
  local f = loadstring("return debug, python, os")
  return found(f())
end

function probe_chunkname_spoof()
  local f = loadstring("while true do end", "=sandbox_kernel")
  return f()
end

function probe_module()
  return pcall(module, "x")
end

function probe_collectgarbage()
  return pcall(collectgarbage, "stop")
end
