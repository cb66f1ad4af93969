"""What rating knows about applications: who applied, what, where and who served (from events)."""
