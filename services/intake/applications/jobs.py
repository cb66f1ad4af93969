"""Background work: deferred materials past their supplement deadline are published as overdue."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import cast

import structlog

from owkernel.app import Kernel
from owkernel.contracts.intake import MaterialOverdue
from owkernel.db import Database
from services.intake.applications import repository
from services.intake.common import local_today, utcnow
from services.intake.db import outbox
from services.intake.settings import IntakeSettings

log = structlog.get_logger("intake.jobs")
BATCH = 200


async def publish_overdue(db: Database, *, today: date) -> int:
    """Report every deferred material due before ``today`` and still missing, once. Returns how many."""
    reported = 0
    while True:
        async with db.transaction() as session:
            waiting = await repository.waiting_overdue(session, today=today, limit=BATCH)
            if not waiting:
                return reported
            apps = await repository.get_by_ids(session, list({m.application_id for m in waiting}))
            now = utcnow()
            for material in waiting:
                app = apps[material.application_id]
                assert material.due_date is not None
                await repository.mark_overdue(session, material.id, now)
                await outbox.add(
                    session,
                    MaterialOverdue(
                        application_no=app.application_no, material_code=material.code, due_date=material.due_date
                    ),
                )
                await repository.add_timeline(
                    session,
                    app.id,
                    at=now,
                    event="intake.material.overdue",
                    detail={"material_code": material.code, "due_date": material.due_date.isoformat()},
                )
            reported += len(waiting)
        if len(waiting) < BATCH:
            return reported


async def overdue_materials(kernel: Kernel) -> None:
    """Look for overdue deferred materials every ``overdue_scan_seconds``, forever."""
    settings = cast(IntakeSettings, kernel.settings)
    while True:
        count = await publish_overdue(kernel.db, today=local_today(settings))
        if count:
            log.info("materials.overdue", count=count)
        await asyncio.sleep(settings.overdue_scan_seconds)
