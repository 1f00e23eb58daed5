plugin_info = { name = "http_plugin", version = "1.0.0", description = "tasks API kept per VM" }

local tasks = {}

http.use(function(req)
  req.processed_by = "http_plugin_middleware"
end)

http.handle("GET", "/tasks", function(req)
  return { status = 200, json = { tasks = tasks, processed_by = req.processed_by } }
end)

http.handle("POST", "/tasks", function(req)
  local task = { id = #tasks + 1, title = (req.json and req.json.title) or "untitled" }
  tasks[#tasks + 1] = task
  return { status = 201, json = task }
end)
