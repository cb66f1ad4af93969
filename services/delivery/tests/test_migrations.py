"""Delivery's migration tree: one head, and the models match what the migrations build."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from owkernel.migrations import heads, upgrade
from services.delivery.db import Base, import_models
from services.delivery.tests.support import INI


def test_one_head() -> None:
    assert heads(INI) == ["0004"]


async def test_models_match_migrations(database_url: str, tmp_path: Path) -> None:
    import_models()
    await asyncio.to_thread(upgrade, INI, database_url)
    engine = create_async_engine(database_url)

    def diff(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    try:
        async with engine.connect() as conn:
            assert await conn.run_sync(diff) == []
    finally:
        await engine.dispose()
