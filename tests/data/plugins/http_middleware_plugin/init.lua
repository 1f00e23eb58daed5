plugin_info = { name = "http_middleware_plugin", version = "1.0.0", description = "middleware" }

http.use(function(req)
  req.custom_field = "enriched_value"
  req.request_count = 1
end)

http.handle("GET", "/check", function(req)
  return { status = 200, json = { custom_field = req.custom_field, request_count = req.request_count } }
end, { public = true })
