-- json module behaviours (spec §9.1).
plugin_info = { name = "json_plugin", version = "1.0.0", description = "json" }

function encode_cases()
  return {
    json.encode(nil),
    json.encode({}),
    json.encode({ b = 1, a = { 1, 2, 3 }, c = "<&>" }),
    json.encode({ 1.5, 10 / 2, 1e21 }),
    json.encode({ [1] = "a", [3] = "c" }),
    json.encode("x"),
  }
end

function decode_cases()
  local v = json.decode('{"a":[1,null,3],"b":{"c":true},"d":null,"e":"s"}')
  return v.a[1], v.a[2], #v.a, v.b.c, v.d, v.e, json.decode("42"), json.decode(42)
end

function encode_nan()
  return json.encode({ x = 0 / 0 })
end

function decode_invalid()
  return json.decode("{nope")
end

function decode_non_string()
  return json.decode({})
end

function shared_bomb()
  local t = { "leaf" }
  for i = 1, 30 do t = { t, t } end
  return json.encode(t)
end

function deep_decode()
  return json.decode(string.rep("[", 5000) .. string.rep("]", 5000))
end
