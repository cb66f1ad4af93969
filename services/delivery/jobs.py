"""Everything delivery runs besides its routes and handlers: its periodic jobs."""

from __future__ import annotations

import structlog

from owkernel.jobs import PeriodicJob
from services.delivery.deps import DeliveryKernel
from services.delivery.settings import DeliverySettings
from services.delivery.webhooks.jobs import prune_expired

log = structlog.get_logger("delivery.jobs")


async def prune_webhook_receipts(kernel: DeliveryKernel) -> None:
    """Prune the webhook audit to what is worth keeping (every replica; passes delete by age or id)."""
    count = await prune_expired(kernel.db, now=kernel.clock.now(), settings=kernel.settings)
    if count:
        log.info("webhooks.pruned", count=count)


def jobs(settings: DeliverySettings) -> list[PeriodicJob]:
    """Delivery's periodic jobs (the couriers are outside parties: simulators/couriers)."""
    return [PeriodicJob("webhook_receipt_pruner", settings.webhook_prune_seconds, prune_webhook_receipts)]
