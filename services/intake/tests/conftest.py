"""Fixtures of intake's tests: the service running in-process on a real database and NATS
(what they give is defined in harness.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from owtest import ServiceRunner, SigningKeys
from services.intake.app import create_app
from services.intake.tests.harness import INI, Hall, intake_settings


@pytest.fixture
async def hall(
    database_url: str, nats_url: str, namespace: str, signing_keys: SigningKeys, tmp_path: Path
) -> AsyncIterator[Hall]:
    """Intake, running."""
    settings = intake_settings(database_url, nats_url, namespace, tmp_path)
    async with ServiceRunner(create_app=create_app, settings=settings, ini_path=INI, keys=signing_keys) as svc:
        yield Hall(svc=svc, keys=signing_keys, namespace=namespace)


# The limits each caller has (issue 17, hole 4), made small so a test reaches them quickly.
LIMITS: dict[str, Any] = {
    "max_open_drafts": 3,
    "applicant_storage_quota_bytes": 1000,
    "max_future_appointments": 3,
    "file_release_seconds": 0.05,
    "storage_sweep_seconds": 3600.0,
    # The sweep's start-up round walks 256 prefixes: with no grace it raced a test writing an
    # unreferenced file meanwhile (and deleted it first). Tests sweep themselves, with no grace.
    "storage_sweep_grace_seconds": 3600.0,
}


@pytest.fixture
async def limited_hall(
    database_url: str, nats_url: str, namespace: str, signing_keys: SigningKeys, tmp_path: Path
) -> AsyncIterator[Hall]:
    """Intake, running, with small per-applicant limits and a quick file release."""
    settings = intake_settings(database_url, nats_url, namespace, tmp_path, **LIMITS)
    async with ServiceRunner(create_app=create_app, settings=settings, ini_path=INI, keys=signing_keys) as svc:
        yield Hall(svc=svc, keys=signing_keys, namespace=namespace)
