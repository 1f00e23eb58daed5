error("module body fails")
