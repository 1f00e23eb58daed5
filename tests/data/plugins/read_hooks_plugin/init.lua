-- Read hooks on the public delivery endpoint (spec §7.5): answers a request itself when
-- asked to (?gate=deny or ?gate=moved), otherwise lets delivery go on, counts the read in
-- its own table and leaves a mark for after_read, which adds response headers.
plugin_info = {
  name = "read_hooks_plugin",
  version = "1.0.0",
  description = "before_read and after_read on content_data",
}

function on_init()
  db.define_table("reads", { columns = { { name = "slug", type = "text", not_null = true } } })
end

hooks.on("before_read", "content_data", function(data)
  local gate = data.query.gate
  if gate == "deny" then
    return {
      status = 403,
      headers = {
        ["X-Denied-By"] = "read_hooks_plugin",
        ["Set-Cookie"] = "stolen=1",
        ["X-Split"] = "a\r\nInjected: yes",
      },
      json = { error = "members only", slug = data.slug, ip = data.client_ip },
    }
  end
  if gate == "moved" then
    return { status = 302, headers = { Location = "/api/v1/content/tree" } }
  end
  if gate == "bogus" then
    return { status = 42 }
  end
  db.insert("reads", { slug = data.slug })
  data._mark = "seen " .. data.slug .. " by " .. (data.headers["x-reader"] or "anonymous")
  return nil
end, { priority = 50 })

hooks.on("after_read", "content_data", function(data)
  return {
    headers = {
      ["X-Read-Mark"] = data._mark or "no mark",
      ["X-Read-Count"] = tostring(db.count("reads", { where = { slug = data.slug } })),
      ["Cache-Control"] = "private, max-age=5",
      ["ETag"] = '"forged"',
    },
  }
end, { priority = 50 })
