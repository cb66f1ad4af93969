"""Fixtures of intake's tests: the service running in-process on a real database and NATS."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from owkernel.testing import ServiceRunner, SigningKeys, service_settings
from services.intake.app import create_app
from services.intake.settings import IntakeSettings
from services.intake.tests.harness import INI, Hall


def intake_settings(database_url: str, nats_url: str, namespace: str, tmp_path: Path, **overrides: Any) -> Any:
    """Test settings: small uploads, a quick overdue scan, files under the test's directory."""
    values: dict[str, Any] = {
        "storage_dir": str(tmp_path / "files"),
        "max_upload_bytes": 64 * 1024,
        "overdue_scan_seconds": 3600.0,
    }
    values.update(overrides)
    return service_settings(IntakeSettings, database_url=database_url, nats_url=nats_url, namespace=namespace, **values)


@pytest.fixture
async def hall(
    database_url: str, nats_url: str, namespace: str, signing_keys: SigningKeys, tmp_path: Path
) -> AsyncIterator[Hall]:
    """Intake, running."""
    settings = intake_settings(database_url, nats_url, namespace, tmp_path)
    async with ServiceRunner(create_app=create_app, settings=settings, ini_path=INI, keys=signing_keys) as svc:
        yield Hall(svc=svc, keys=signing_keys, namespace=namespace)
