-- Directory name differs from plugin_info.name: the original accepted this; this port
-- requires name == directory, so discovery reports and skips it.
plugin_info = { name = "http_test", version = "1.0.0", description = "bridge routes" }

http.handle("GET", "/hello", function(req) return { status = 200, json = { hello = "world" } } end)
http.handle("POST", "/echo", function(req) return { status = 200, json = req.json } end)
http.handle("POST", "/webhook", function(req) return { status = 200, json = { ok = true } } end,
  { public = true })
http.handle("GET", "/items/{id}", function(req) return { json = { id = req.params.id } } end)
http.handle("GET", "/headers", function(req)
  return { headers = { ["set-cookie"] = "x=1" }, json = { ok = true } }
end)
