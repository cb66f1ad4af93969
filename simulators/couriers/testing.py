"""The simulated couriers served for a test: the real app behind uvicorn on a real port
(owtest.serving)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from owtest import serving
from simulators.couriers.app import create_app
from simulators.couriers.settings import CouriersSimSettings


def couriers_settings(data_dir: Path, *, port: int, webhook_base_url: str, **overrides: Any) -> CouriersSimSettings:
    """Settings of a simulator under test: allowed, its book in ``data_dir``, no pace."""
    values: dict[str, Any] = {
        "allowed": True,
        "port": port,
        "webhook_base_url": webhook_base_url,
        "delay_seconds": 0.0,
        "database_path": str(data_dir / "couriers.db"),
        "poll_seconds": 0.05,
    }
    return CouriersSimSettings.model_validate(values | overrides)


@contextlib.asynccontextmanager
async def running_couriers(settings: CouriersSimSettings) -> AsyncIterator[str]:
    """The simulator on its port; yields its base URL."""
    async with serving(create_app(settings), settings.port):
        yield f"http://127.0.0.1:{settings.port}"
