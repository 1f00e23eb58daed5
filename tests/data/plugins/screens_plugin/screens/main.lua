-- Shows every event it receives as detail fields (nested tables flattened with dots),
-- and answers keys with the actions the tests need.

local function flatten(value, prefix, out, depth)
  for k, v in pairs(value) do
    local key = prefix .. tostring(k)
    if type(v) == "table" and depth < 4 then
      flatten(v, key .. ".", out, depth + 1)
    else
      out[#out + 1] = { label = key, value = tostring(v) }
    end
  end
  return out
end

local function show(event, note)
  local fields = flatten(event, "", {}, 1)
  table.sort(fields, function(a, b) return a.label < b.label end)
  return {
    type = "grid",
    columns = {
      { span = 8, cells = { { title = "Event", height = 2,
                              content = { type = "detail", fields = fields } } } },
      { span = 4, cells = { { title = "Note", content = { type = "text", lines = { note } } } } },
    },
    hints = { { key = "q", label = "quit" } },
  }
end

function screen(ctx)
  local url = ctx.params and ctx.params.url or "http://127.0.0.1:1/none"
  local event, note = ctx, "started"
  while true do
    local reply
    if event.type == "key" then
      local k = event.key
      if k == "q" then return end
      if k == "t" then reply = { action = "toast", message = "hello toast", level = "warning" }
      elseif k == "c" then reply = { action = "confirm", title = "Sure?", message = "Really?" }
      elseif k == "n" then
        reply = { action = "navigate", screen = "hidden_one", params = { from = "main", n = 3 } }
      elseif k == "r" then reply = { action = "request", id = "ping", url = url }
      elseif k == "f" then reply = { action = "fetch", id = "notes", table = "notes",
                                     order_by = "body" }
      elseif k == "w" then
        db.insert("notes", { body = "from screen" })
        note = "wrote a note"
      elseif k == "e" then error("boom on purpose")
      elseif k == "m" then reply = { action = "commit", value = "chosen" }
      end
    end
    event = coroutine.yield(reply or show(event, note))
  end
end
