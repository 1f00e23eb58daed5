-- Reached only by navigate: lists the params it was opened with, quits on any key.
function screen(ctx)
  local items = {}
  for k, v in pairs(ctx.params or {}) do items[#items + 1] = { label = k .. "=" .. v, id = k } end
  table.sort(items, function(a, b) return a.label < b.label end)
  coroutine.yield({ type = "list", items = items, cursor = 0 })
end
