function screen(ctx)
  while true do
    local event = coroutine.yield({ type = "list", items = { { label = "press l to hang" } } })
    if event.type == "key" and event.key == "l" then
      while true do end
    end
  end
end
