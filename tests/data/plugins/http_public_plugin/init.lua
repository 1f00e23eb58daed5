plugin_info = { name = "http_public_plugin", version = "1.0.0", description = "public routes" }

http.handle("POST", "/webhook", function(req)
  return { status = 200, json = { received = true, body = req.json } }
end, { public = true })

http.handle("GET", "/status", function(req)
  return { status = 200, json = { status = "ok" } }
end, { public = true })
