plugin_info = { name = "http_error_plugin", version = "1.0.0", description = "handler errors" }

http.handle("GET", "/fail", function(req)
  error("deliberate test error")
end, { public = true })
