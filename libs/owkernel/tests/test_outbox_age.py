"""The relay's outbox age gauge: the oldest unsent row's age, measured when the relay polls, also
while NATS is away (when events age), and 0 once none waits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, update

from owkernel import kernel_tables, new_metadata
from owkernel.bus import Bus
from owkernel.db import Database
from owkernel.metrics import OUTBOX_OLDEST_AGE
from owkernel.outbox import OutboxRelay

metadata = new_metadata()
tables = kernel_tables(metadata)


def age_of(service: str) -> float:
    return float(OUTBOX_OLDEST_AGE.labels(service)._value.get())


async def test_oldest_unsent_row_sets_the_age_gauge(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'age.db'}")
    async with db.engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    # Never connected: NATS is away, as when an outbox fills up.
    relay = OutboxRelay(db, Bus("nats://127.0.0.1:1", name="agetest"), tables, service="agetest")
    now = datetime.now(UTC)
    try:
        async with db.transaction() as session:
            await session.execute(
                insert(tables.outbox),
                [
                    {
                        "event_id": f"e{i}",
                        "subject": "intake.x",
                        "payload": b"{}",
                        "created_at": now - timedelta(seconds=s),
                    }
                    for i, s in enumerate((30, 5))
                ],
            )
        assert await relay.drain_once() == (0, False)
        assert 30 <= age_of("agetest") < 40
        async with db.transaction() as session:
            await session.execute(update(tables.outbox).values(sent_at=now))
        await relay.drain_once()
        assert age_of("agetest") == 0
    finally:
        await db.dispose()
