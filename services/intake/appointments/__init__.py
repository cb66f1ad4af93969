"""Appointments at the windows: slots with capacity, any hour, any day a window opens."""
