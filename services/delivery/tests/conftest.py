"""Fixtures of delivery's tests (what they give is defined in harness.py)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from owtest import ServiceRunner, SigningKeys, fresh_database_url
from services.delivery.app import create_app
from services.delivery.tests.harness import INI, Delivery, couriers_on, delivery_settings, publisher_on


@pytest.fixture(scope="module")
async def delivery(
    nats_url: str, signing_keys: SigningKeys, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Delivery]:
    """One delivery service for a test module (tests use their own application numbers), booking
    with the simulated couriers, which leave the reports to the tests."""
    namespace = "t" + uuid.uuid4().hex[:10]
    data = tmp_path_factory.mktemp("delivery")
    url = fresh_database_url("delivery", data)
    async with publisher_on(nats_url, namespace) as publisher, couriers_on(data) as apis:
        runner = ServiceRunner(
            create_app=create_app,
            settings=delivery_settings(url, nats_url, namespace, courier_apis=apis),
            ini_path=INI,
            keys=signing_keys,
        )
        async with runner as svc:
            yield Delivery(svc=svc, keys=signing_keys, publisher=publisher)
