"""Background work: the webhook audit is pruned to what is worth keeping, in every replica."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import cast

import structlog

from owkernel.app import Kernel
from owkernel.db import Database
from services.delivery.settings import DeliverySettings
from services.delivery.timeutil import utcnow
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


async def webhook_receipt_pruner(kernel: Kernel) -> None:
    """Prune the webhook audit every ``webhook_prune_seconds``, forever."""
    settings = cast(DeliverySettings, kernel.settings)
    while True:
        try:
            count = await prune_expired(kernel.db, now=utcnow(), settings=settings)
            if count:
                log.info("webhooks.pruned", count=count)
        except Exception as exc:  # noqa: BLE001 - database away: the next tick tries again
            log.warning("webhooks.prune_failed", error=repr(exc))
        await asyncio.sleep(settings.webhook_prune_seconds)
