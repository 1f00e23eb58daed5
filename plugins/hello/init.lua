-- The smallest useful plugin: one public route and a log line on start.
plugin_info = {
  name = "hello",
  version = "1.0.0",
  description = "Says hello over HTTP",
  author = "ModulaCMS",
  license = "MIT",
  screens = { { name = "greeting", label = "Greeting" } },  -- screens/greeting.lua
}

-- GET /api/v1/plugins/hello/greet?name=Ada  ->  {"message": "hello, Ada"}
http.handle("GET", "/greet", function(req)
  local name = req.query.name
  if name == nil or name == "" then name = "world" end
  if #name > 64 then
    return { status = 400, json = { error = "name is too long" } }
  end
  return { status = 200, json = { message = "hello, " .. name } }
end, { public = true })

function on_init()
  log.info("hello plugin ready")
end
