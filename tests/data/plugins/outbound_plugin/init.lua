-- Outbound HTTP (spec §8): register domains at module scope, send at runtime.
plugin_info = { name = "outbound_plugin", version = "1.0.0", description = "outbound" }

request.register("127.0.0.1", { description = "local test server" })
request.register("10.0.0.1")
request.register("API.Example.com")

function fetch(url, opts)
  return request.send("GET", url, opts)
end

function post_json(url, value)
  return request.post(url, { json = value, parse_json = true })
end

function misuse()
  local out = {}
  local function try(...)
    local ok, err = pcall(request.send, ...)
    out[#out + 1] = ok and "ok" or err
  end
  try("TRACE", "https://api.example.com/")
  try("GET", "https://user:pw@api.example.com/")
  try("GET", "no-scheme")
  try("GET", "https://api.example.com/", { body = "x", json = {} })
  return out
end

function late_register()
  return pcall(request.register, "late.example.com")
end

function on_init()
  local ok, err = pcall(request.send, "GET", "https://api.example.com/")
  init_error = err
end
