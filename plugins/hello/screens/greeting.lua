-- The smallest screen: a greeting that shows the last key pressed. t shows a toast,
-- q closes. Open it with params { name = "Ada" } to greet someone else.
function screen(ctx)
  local name = ctx.params and ctx.params.name or "world"
  local width, height = ctx.width, ctx.height
  local event, pressed = ctx, "none yet"
  while true do
    local reply
    if event.type == "resize" then
      width, height = event.width, event.height
    elseif event.type == "key" then
      if event.key == "q" then return end
      pressed = event.key
      if event.key == "t" then reply = { action = "toast", message = "hello, " .. name } end
    end
    event = coroutine.yield(reply or {
      type = "text",
      lines = {
        { text = "hello, " .. name, bold = true, accent = true },
        "last key: " .. pressed,
        "screen size: " .. width .. "x" .. height,
        { text = "t shows a toast, q closes", faint = true },
      },
    })
  end
end
