function test_fails_eq()
  test.assert_eq(1, 2, "numbers")
end

function test_fails_assert()
  test.assert(false, "deliberate")
  test.assert_eq("a", "b")
end

function test_runtime_error()
  error("exploded")
end
