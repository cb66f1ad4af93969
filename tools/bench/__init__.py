"""The benchmarks: `make bench` (``python -m tools.bench``) runs the sections in this package.

Each section is a module of its own (``python -m tools.bench.<section>``); none ships in an image,
and none imports test code.
"""
