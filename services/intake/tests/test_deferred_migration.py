"""Revision 0006: the open waits the old 容缺 rule opened per deferred material end as if they
had never been (at their own start); a wait for the fee stays open."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import command

from owkernel.db import Database, UtcDateTime
from owkernel.migrations import alembic_config
from services.intake.tests.harness import INI

STARTED = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)
SUPPLIED = datetime(2026, 11, 4, 2, 0, tzinfo=UTC)


async def test_revision_0006_ends_the_deferred_materials_waits(database_url: str) -> None:
    await asyncio.to_thread(command.upgrade, alembic_config(INI, database_url), "0005")
    db = Database(database_url)
    applications = sa.table(
        "applications",
        *(sa.column(c) for c in ("id", "application_no", "status", "item_code", "item_version", "item_name")),
        *(sa.column(c) for c in ("item_trips", "window", "department", "channel", "applicant_id_number")),
        *(sa.column(c) for c in ("applicant_kind", "applicant_name", "created_by", "fee_fen", "payment_status")),
        sa.column("item", sa.JSON()),
        sa.column("form", sa.JSON()),
        sa.column("delivery", sa.JSON()),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("updated_at", sa.DateTime(timezone=True)),
    )
    suspensions = sa.table(
        "suspensions",
        sa.column("application_id"),
        sa.column("key"),
        sa.column("reason"),
        sa.column("started_at", UtcDateTime()),
        sa.column("ended_at", UtcDateTime()),
    )
    try:
        async with db.transaction() as session:
            await session.execute(
                sa.insert(applications).values(
                    id=1,
                    application_no="2026-C-000001",
                    status="accepted",
                    item_code="T-001",
                    item_version=1,
                    item_name="测试许可事项",
                    item_trips=1,
                    item={},
                    window="commercial",
                    department="MARKET",
                    channel="online",
                    applicant_id_number="370602198501010012",
                    applicant_kind="person",
                    applicant_name="张三",
                    created_by="u",
                    form={},
                    delivery={"method": "window"},
                    fee_fen=5000,
                    payment_status="unpaid",
                    created_at=STARTED,
                    updated_at=STARTED,
                )
            )
            await session.execute(
                sa.insert(suspensions),
                [
                    # The old rule: one wait per deferred material (M2 supplied, M3 still missing) and the fee's.
                    {
                        "application_id": 1,
                        "key": "material:M2",
                        "reason": "deferred_material",
                        "started_at": STARTED,
                        "ended_at": SUPPLIED,
                    },
                    {
                        "application_id": 1,
                        "key": "material:M3",
                        "reason": "deferred_material",
                        "started_at": STARTED,
                        "ended_at": None,
                    },
                    {
                        "application_id": 1,
                        "key": "payment",
                        "reason": "unpaid_fee",
                        "started_at": STARTED,
                        "ended_at": None,
                    },
                ],
            )
        await asyncio.to_thread(command.upgrade, alembic_config(INI, database_url), "0006")
        async with db.transaction() as session:
            rows = await session.execute(
                sa.select(suspensions.c.key, suspensions.c.ended_at).order_by(suspensions.c.key)
            )
            ended = {key: at for key, at in rows}
    finally:
        await db.dispose()
    assert ended == {"material:M2": SUPPLIED, "material:M3": STARTED, "payment": None}
