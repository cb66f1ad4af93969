"""Third-party satisfaction surveys imported from CSV files."""
