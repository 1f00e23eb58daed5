local M = {}

function M.is_valid_url(url)
  if type(url) ~= "string" then return false end
  return url:match("^https?://[%w%.%-]+") ~= nil
end

function M.trim(s)
  return (s:gsub("^%s*(.-)%s*$", "%1"))
end

return M
