plugin_info = {
  name = "Has Spaces And CAPS",
  version = "1.0.0",
  description = "Invalid plugin name",
}
