"""Cross-service fixtures: the whole platform as real processes, once per test session
(what it gives is defined in harness.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.harness import Platform, running_platform


@pytest.fixture(scope="session")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    """Gateway, four services and NATS as processes; SQLite (or PostgreSQL when configured)."""
    yield from running_platform(tmp_path_factory)
