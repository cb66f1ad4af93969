"""Fixtures shared by every test in the monorepo: a real nats-server, signing keys, databases."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from owtest import NatsServer, SigningKeys, TestEnvironment, fresh_database_url


@pytest.fixture(scope="session")
def nats_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real NATS with JetStream: the configured one (CI's second pass) or one started here."""
    env = TestEnvironment()
    if env.nats_url:
        yield env.nats_url
        return
    server = NatsServer(store_dir=tmp_path_factory.mktemp("nats")).start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def signing_keys() -> SigningKeys:
    """Keys that sign access tokens the way the gateway does."""
    return SigningKeys()


@pytest.fixture
def namespace() -> str:
    """A NATS namespace of this test alone (its own streams and consumers)."""
    return "t" + uuid.uuid4().hex[:10]


@pytest.fixture
def database_url(tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A fresh, empty database (SQLite file, or PostgreSQL when configured)."""
    return fresh_database_url(request.node.name[:20].replace("[", "_").replace("]", "").replace("-", "_"), tmp_path)
