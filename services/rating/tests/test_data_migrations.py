"""Rating's data migrations: data saved by earlier revisions survives and is brought up to date.
(One head, models matching and downgrades are checked for every tree in tests/test_migrations.py.)"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from pathlib import Path

from alembic import command
from sqlalchemy import text

from owkernel.db import Database
from owkernel.migrations import alembic_config
from services.rating.reviews import repository
from services.rating.tests.harness import INI


async def test_roll_up_migration_counts_earlier_ratings(database_url: str, tmp_path: Path) -> None:
    config = alembic_config(INI, database_url)
    await asyncio.to_thread(command.upgrade, config, "0002")
    db = Database(database_url)
    try:
        async with db.transaction() as session:
            for review_id, score, at, department in (
                # 23:30 UTC is the next morning in the hall (UTC+8): it counts for 2 March.
                ("RV-1", 5, datetime(2026, 3, 1, 23, 30, tzinfo=UTC), "D1"),
                ("RV-2", 2, datetime(2026, 3, 2, 3, 0, tzinfo=UTC), "D1"),
                ("RV-3", 4, datetime(2026, 3, 1, 10, 0, tzinfo=UTC), None),
            ):
                await session.execute(
                    text(
                        "INSERT INTO ratings (review_id, channel, score, department, rated_at, annulled, rectified)"
                        " VALUES (:id, 'online', :score, :department, :at, false, false)"
                    ),
                    {"id": review_id, "score": score, "department": department, "at": at},
                )
            await session.execute(
                text(
                    'INSERT INTO kiosks (kiosk_id, "window", key_hash, created_by, created_at)'
                    " VALUES ('KS-1', 'general', 'h', 'admin', :at)"
                ),
                {"at": datetime(2026, 3, 1, tzinfo=UTC)},
            )
        await asyncio.to_thread(command.upgrade, config, "head")
        async with db.transaction() as session:
            days: dict[str, object] = {
                r[0]: r[1] for r in await session.execute(text("SELECT review_id, rated_on FROM ratings"))
            }
            assert {k: date.fromisoformat(str(v)) for k, v in days.items()} == {
                "RV-1": date(2026, 3, 2),
                "RV-2": date(2026, 3, 2),
                "RV-3": date(2026, 3, 1),
            }
            votes = (await session.execute(text("SELECT hour_votes FROM kiosks"))).scalar_one()
            assert votes == 0  # a kiosk registered before the hourly counter starts with an empty hour
            rows = await repository.stats(session, by="department", start=None, end=None)
            assert [(r.key, r.count, r.satisfied, r.bad) for r in rows] == [(None, 1, 1, 0), ("D1", 2, 1, 1)]
            for by in repository.GROUPS:
                assert await repository.stats(session, by=by, start=None, end=None) == (
                    await repository.stats_from_ratings(session, by=by, start=None, end=None)
                )
    finally:
        await db.dispose()
