"""The catalog of service items: versioned, importable, with the published trip figures."""
