"""Approval's supervision clocks and cards, and intake's visits, as rating needs them."""
