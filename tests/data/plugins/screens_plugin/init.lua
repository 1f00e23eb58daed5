-- Fixture for plugin TUI screens: an echo screen, a hidden one, limits and hostile cases.
plugin_info = {
  name = "screens_plugin",
  version = "1.0.0",
  description = "Screens for the screen protocol tests",
  screens = {
    { name = "main", label = "Main screen", icon = "*" },
    { name = "hidden_one", label = "Hidden", hidden = true },
    { name = "limits" },
    { name = "hostile" },
  },
}

request.register("127.0.0.1", { description = "the tests' local server" })

http.handle("GET", "/ping", function() return { status = 200, json = { pong = true } } end)

function on_init()
  db.define_table("notes", { columns = { { name = "body", type = "text", not_null = true } } })
end
