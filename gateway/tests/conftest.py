"""Fixtures of the gateway's tests: one real stack (gateway + upstream service) per module."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from gateway.tests.harness import Stack, running_stack
from owtest import fresh_database_url


@pytest.fixture(scope="module")
async def stack(nats_url: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    """The gateway on a real port with a real upstream service behind it (no rate limit)."""
    tmp = tmp_path_factory.mktemp("gateway")
    async with running_stack(
        database_url=fresh_database_url("gateway", tmp),
        upstream_database_url=fresh_database_url("upstream", tmp),
        nats_url=nats_url,
    ) as running:
        yield running
