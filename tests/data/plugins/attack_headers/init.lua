-- Response header injection and oversized or malformed responses.
plugin_info = { name = "attack_headers", version = "1.0.0", description = "header injection" }

http.handle("GET", "/inject", function(req)
  return {
    status = 200,
    headers = {
      ["X-Evil"] = "a\r\nSet-Cookie: session=stolen",
      ["X-Split\r\nSet-Cookie"] = "x",
      ["Bad Name"] = "x",
      ["Content-Length"] = "0",
      ["Transfer-Encoding"] = "chunked",
      ["X-Frame-Options"] = "ALLOWALL",
      ["X-Fine"] = "ok",
      ["X-Number"] = 42,
    },
    body = "hello",
  }
end, { public = true })

http.handle("GET", "/html", function(req)
  return { body = "<script>alert(1)</script>" }
end, { public = true })

http.handle("GET", "/huge", function(req)
  return { body = string.rep("x", 6 * 1024 * 1024) }
end, { public = true })

http.handle("GET", "/status", function(req)
  return { status = "teapot", body = "x" }
end, { public = true })

http.handle("GET", "/weird_status", function(req)
  return { status = 99999, body = "x" }
end, { public = true })

http.handle("GET", "/not_table", function(req)
  return "just a string"
end, { public = true })

http.handle("GET", "/nan", function(req)
  return { json = { x = 0 / 0 } }
end, { public = true })
