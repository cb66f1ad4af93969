"""The benchmarks: `make bench` (``python -m tools.bench``) runs the sections in this package.

Each section is a module of its own (``python -m tools.bench.<section>``); none ships in an image,
and none imports test code.
"""


def percentile(values: list[float], p: float) -> float:
    """The ``p``-th percentile of ``values`` (nearest rank; NaN when there are none)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]
