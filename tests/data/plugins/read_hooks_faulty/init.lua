-- Read hooks that fail on request: ?fault=error raises in before_read, ?fault=loop never
-- returns from it; ?after=error and ?after=loop do the same in after_read. Each failing
-- hook must be skipped and the page still served (spec §7.5).
plugin_info = {
  name = "read_hooks_faulty",
  version = "1.0.0",
  description = "read hooks that raise or loop",
}

hooks.on("before_read", "content_data", function(data)
  if data.query.fault == "error" then error("before_read refused to cooperate") end
  if data.query.fault == "loop" then while true do end end
  data._faulty = "passed"
end)

hooks.on("after_read", "content_data", function(data)
  if data.query.after == "error" then error("after_read refused to cooperate") end
  if data.query.after == "loop" then while true do end end
  return { headers = { ["X-Faulty"] = data._faulty or "no state" } }
end)
