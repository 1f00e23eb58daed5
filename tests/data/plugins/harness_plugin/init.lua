plugin_info = {
  name = "harness_plugin",
  version = "1.0.0",
  description = "Exercised by the plugin test harness",
  author = "Modula Test Suite",
  license = "MIT",
}

http.handle("GET", "/ping", function(req)
  return { status = 200, json = { pong = true } }
end)

http.handle("POST", "/echo", function(req)
  return { status = 200, json = req.json }
end)

hooks.on("before_create", "content_data", function(data)
  if data.title == "forbidden" then error("title is forbidden") end
end)

hooks.on("after_create", "content_data", function(data)
  db.insert("items", { label = "created " .. tostring(data.title), count = 1 })
end)

function on_init()
  db.define_table("items", {
    columns = {
      { name = "label", type = "text", not_null = true },
      { name = "count", type = "integer", not_null = true, default = 0 },
    },
  })
end
