-- Fixture: a screen that shows a list until "l" is pressed, then loops forever.
plugin_info = {
  name = "looping_screen",
  version = "1.0.0",
  description = "A screen that hangs on a key",
  screens = { { name = "spin", label = "Spin" } },
}
