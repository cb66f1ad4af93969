"""Fixtures of approval's tests.

``approval`` is one running service per test module (each test uses its own application
numbers and sets the clock it needs), so a module pays one start-up; ``alone`` is a service of
the test's own, for tests that count every card a scan raises or every figure of a summary.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import date

import pytest

from owtest import SigningKeys, fresh_database_url
from services.approval.tests.harness import Approval, at, running_approval

START = at(date(2026, 11, 2))  # Monday 2 November 2026, 10:00 in the hall


@pytest.fixture(scope="module")
async def shared_approval(
    nats_url: str, signing_keys: SigningKeys, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Approval]:
    """One approval for the whole module, on its own database and NATS namespace."""
    async with running_approval(
        database_url=fresh_database_url("approval_module", tmp_path_factory.mktemp("approval")),
        nats_url=nats_url,
        namespace="t" + uuid.uuid4().hex[:10],
        keys=signing_keys,
        start=START,
    ) as harness:
        yield harness


@pytest.fixture
def approval(shared_approval: Approval) -> Approval:
    """The module's approval, its clock back at Monday 2 November 2026, 10:00."""
    shared_approval.clock.current = START
    return shared_approval


@pytest.fixture
async def alone(database_url: str, nats_url: str, namespace: str, signing_keys: SigningKeys) -> AsyncIterator[Approval]:
    """An approval of this test alone, its clock at Monday 2 November 2026, 10:00."""
    async with running_approval(
        database_url=database_url, nats_url=nats_url, namespace=namespace, keys=signing_keys, start=START
    ) as harness:
        yield harness
