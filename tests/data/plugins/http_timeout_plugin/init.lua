plugin_info = { name = "http_timeout_plugin", version = "1.0.0", description = "handler hangs" }

http.handle("GET", "/hang", function(req)
  while true do end
end, { public = true })
