"""Background work: the webhook audit is pruned to what is worth keeping, in every replica
(listed as a periodic job in ``services/delivery/jobs.py``)."""

from __future__ import annotations

from datetime import datetime

import structlog

from owkernel.db import Database
from services.delivery.settings import DeliverySettings
from services.delivery.webhooks import service

log = structlog.get_logger("delivery.webhooks.jobs")
# Rows per statement: one short transaction each, even on the first run over months of receipts.
PRUNE_BATCH = 5000


async def prune_expired(db: Database, *, now: datetime, settings: DeliverySettings, batch: int = PRUNE_BATCH) -> int:
    """Prune the audit, one transaction per pass, until a pass finds nothing; how many rows went.

    Replicas may prune at the same moment: each pass only deletes rows by age or by id, so a
    row another replica took is not counted twice and nothing is left half done.
    """
    total = 0
    while True:
        async with db.transaction() as session:
            deleted = await service.prune_receipts(session, now=now, settings=settings, batch=batch)
        if not deleted:
            return total
        total += deleted
