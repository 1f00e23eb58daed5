"""One screen per top-level area of the terminal admin (the app's MODES)."""
