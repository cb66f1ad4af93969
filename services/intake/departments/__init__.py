"""Departments: the registry that gives the catalog's department codes their names."""
