"""Fixtures of approval's tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date

import pytest

from owkernel.testing import SigningKeys
from services.approval.tests.harness import Approval, at, running_approval


@pytest.fixture
async def approval(
    database_url: str, nats_url: str, namespace: str, signing_keys: SigningKeys
) -> AsyncIterator[Approval]:
    """Approval running, its clock at Monday 2 November 2026, 10:00 in the hall."""
    async with running_approval(
        database_url=database_url,
        nats_url=nats_url,
        namespace=namespace,
        keys=signing_keys,
        start=at(date(2026, 11, 2)),
    ) as harness:
        yield harness
