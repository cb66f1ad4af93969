"""The monthly 100-point assessment of each window and department."""
