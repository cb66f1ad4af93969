"""Bad reviews and inspection findings followed up: return visit, rectification, appeal, outcome."""
