function test_greets_by_name()
  local res = test.request("GET", "/api/v1/plugins/hello/greet?name=Ada", { auth = "none" })
  test.assert_eq(200, res.status)
  test.assert_eq("hello, Ada", res.json.message)
end

function test_defaults_to_world()
  local res = test.request("GET", "/api/v1/plugins/hello/greet")
  test.assert_eq("hello, world", res.json.message)
end

function test_rejects_long_names()
  local res = test.request("GET", "/api/v1/plugins/hello/greet?name=" .. string.rep("x", 65))
  test.assert_eq(400, res.status)
end
