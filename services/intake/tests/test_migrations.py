"""Intake's migration tree: one head, and the models match what the migrations build."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection

from owkernel.db import Database
from owkernel.migrations import heads, upgrade
from services.intake.db import Base, import_models
from services.intake.tests.harness import INI


def test_one_head() -> None:
    assert heads(INI) == ["0007"]


async def test_models_match_migrations(database_url: str) -> None:
    import_models()
    await asyncio.to_thread(upgrade, INI, database_url)
    db = Database(database_url)

    def diff(conn: Connection) -> list[Any]:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    try:
        async with db.engine.connect() as conn:
            differences = await conn.run_sync(diff)
    finally:
        await db.dispose()
    assert differences == []
