-- Floods the log with huge and numerous lines; the host must cap and rate-limit them.
plugin_info = { name = "log_flood", version = "1.0.0", description = "log flood" }

function flood_lines()
  for i = 1, 20000 do
    log.info("line " .. i)
  end
  return "done"
end

function flood_big()
  local big = string.rep("x", 1024 * 1024)
  for i = 1, 200 do
    log.error(big, { i = i, blob = big })
  end
  return "done"
end

function flood_print()
  for i = 1, 20000 do print("spam", i) end
  return "done"
end
