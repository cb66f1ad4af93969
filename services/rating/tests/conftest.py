"""Rating test fixtures: one running rating service per test module (real database, real NATS),
and a feeder that publishes other services' events as real envelopes on the module's namespace.
What they give is defined in harness.py."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from owkernel.bus import Bus
from owkernel.clock import Clock
from owtest import ServiceRunner, SigningKeys, fresh_database_url, service_settings
from services.rating.app import create_app
from services.rating.settings import RatingSettings
from services.rating.tests.harness import INI, Client, Feeder


@pytest.fixture(scope="module")
def rating_overrides() -> dict[str, Any]:
    """Settings a test module wants different (override the fixture in the module)."""
    return {}


@pytest.fixture(scope="module")
def rating_clock() -> Clock | None:
    """The service's clock (None: the system's; a module that moves time overrides this with a FakeClock)."""
    return None


@pytest.fixture(scope="module")
async def rating(
    nats_url: str,
    signing_keys: SigningKeys,
    tmp_path_factory: pytest.TempPathFactory,
    rating_overrides: dict[str, Any],
    rating_clock: Clock | None,
) -> AsyncIterator[Client]:
    """A running rating service of this module alone: fresh database, own NATS namespace."""
    namespace = "t" + uuid.uuid4().hex[:10]
    url = fresh_database_url("rating", tmp_path_factory.mktemp("rating"))
    settings = service_settings(
        RatingSettings,
        database_url=url,
        nats_url=nats_url,
        namespace=namespace,
        link_secret="test-link-secret-0123456789",
        **rating_overrides,
    )
    runner = ServiceRunner(
        create_app=create_app, settings=settings, ini_path=INI, keys=signing_keys, clock=rating_clock
    )
    async with runner as svc:
        yield Client(svc, signing_keys)


@pytest.fixture(scope="module")
async def feeder(rating: Client) -> AsyncIterator[Feeder]:
    """Other services' side of the bus, in the rating module's namespace."""
    settings: RatingSettings = rating.svc.settings
    bus = Bus(settings.nats_url, name="rating-test-feeder", namespace=settings.nats_namespace)
    await bus.connect()
    await bus.ensure_streams()
    try:
        yield Feeder(bus)
    finally:
        await bus.close()
