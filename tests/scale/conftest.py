"""The scale-out runs (``make test-scale``): collected only when asked for with ``-m scale``.

They start a three-node NATS cluster and two replicas of every component on PostgreSQL, far too
much for the default passes (`make test`, `make test-pg`), which therefore never collect them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from owtest import TestEnvironment
from tools.scale.platform import ScalePlatform


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "scale: the scale-out runs on PostgreSQL and a NATS cluster (make test-scale)")


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Leave this directory alone unless the run selects the ``scale`` marker."""
    if "scale" in (config.getoption("markexpr", "") or ""):
        return None
    return collection_path.name.startswith("test_")


@pytest.fixture(scope="module")
def scaled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ScalePlatform]:
    """Two replicas of every component, a three-node JetStream cluster, PostgreSQL."""
    if not TestEnvironment().pg_url:
        pytest.fail("make test-scale needs ONEWINDOW_TEST_PG_URL (the Makefile sets it)")
    platform = ScalePlatform(tmp_path_factory.mktemp("scale"))
    try:
        platform.start()
        yield platform
    finally:
        platform.stop()
