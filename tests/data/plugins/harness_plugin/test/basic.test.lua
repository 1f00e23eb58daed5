local seeded

test.setup(function()
  seeded = true
end)

function test_assert_and_eq()
  test.assert(true)
  test.assert_eq(3, 1 + 2)
  test.assert_eq({ a = { 1, 2 } }, { a = { 1, 2 } })
end

function test_neq_nil_not_nil()
  test.assert_neq(1, 2)
  test.assert_nil(nil)
  test.assert_not_nil(0)
end

function test_assert_error_and_contains()
  test.assert_error(function() error("boom happened") end, "boom")
  test.assert_contains("hello world", "lo wo")
end

function test_setup_ran()
  test.assert_eq(true, seeded)
end

function test_db_insert_and_query()
  db.insert("items", { label = "one", count = 1 })
  local rows = db.query("items")
  test.assert_eq(1, #rows)
  test.assert_eq("one", rows[1].label)
end

function test_savepoint_isolation()
  test.assert_eq(0, db.count("items"))
end

function test_http_ping()
  local res = test.request("GET", "/api/v1/plugins/harness_plugin/ping")
  test.assert_eq(200, res.status)
  test.assert_eq(true, res.json.pong)
end

function test_http_echo()
  local res = test.request("POST", "/api/v1/plugins/harness_plugin/echo", { body = '{"x":1}' })
  test.assert_eq(200, res.status)
  test.assert_eq(1, res.json.x)
end

function test_http_needs_auth()
  local res = test.request("GET", "/api/v1/plugins/harness_plugin/ping", { auth = "none" })
  test.assert_eq(401, res.status)
end

function test_before_hook_aborts()
  local err = test.fire_hook("before_create", "content_data", { title = "forbidden" })
  test.assert_contains(err, "harness_plugin")
  test.assert_nil(test.fire_hook("before_create", "content_data", { title = "fine" }))
end

function test_after_hook_writes()
  test.fire_hook("after_create", "content_data", { title = "x" })
  test.assert_eq(1, db.count("items", { where = { label = "created x" } }))
end

function test_mock_request()
  test.mock_request("GET", "api.example.com/v1/thing", { status = 200, json = { ok = true } })
  local engine_rule_count = 1
  test.assert_eq(1, engine_rule_count)
end
