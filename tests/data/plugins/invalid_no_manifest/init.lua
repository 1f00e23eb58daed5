-- No plugin_info global at all.
function on_init()
  log.info("never loaded")
end
