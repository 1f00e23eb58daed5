plugin_info = { name = "http_params_plugin", version = "1.0.0", description = "path parameters" }

http.handle("GET", "/items/{id}", function(req)
  return { status = 200, json = { id = req.params.id, method = req.method } }
end)
