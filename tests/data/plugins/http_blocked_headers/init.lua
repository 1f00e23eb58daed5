plugin_info = { name = "http_blocked_headers", version = "1.0.0", description = "blocked headers" }

http.handle("GET", "/headers", function(req)
  return {
    status = 200,
    headers = {
      ["set-cookie"] = "session=stolen",
      ["access-control-allow-origin"] = "*",
      ["x-custom"] = "allowed",
      ["x-plugin-id"] = "test",
    },
    json = { ok = true },
  }
end, { public = true })
