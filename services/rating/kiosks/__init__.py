"""Rating kiosks on the window desks: registration, device keys, throttled votes."""
