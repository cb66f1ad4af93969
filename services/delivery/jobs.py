"""Everything delivery runs besides its routes and handlers: its periodic jobs."""

from __future__ import annotations

import structlog

from owkernel.jobs import PeriodicJob
from services.delivery.deps import DeliveryKernel
from services.delivery.partners.secrets import resolve_courier_delay
from services.delivery.partners.simulated import Simulator
from services.delivery.settings import DeliverySettings
from services.delivery.webhooks.jobs import prune_expired

log = structlog.get_logger("delivery.jobs")


async def prune_webhook_receipts(kernel: DeliveryKernel) -> None:
    """Prune the webhook audit to what is worth keeping (every replica; passes delete by age or id)."""
    count = await prune_expired(kernel.db, now=kernel.clock.now(), settings=kernel.settings)
    if count:
        log.info("webhooks.pruned", count=count)


async def simulated_couriers(kernel: DeliveryKernel) -> None:
    """The simulated partners post their signed status reports to our webhook (runs until stopped)."""
    settings = kernel.settings
    await Simulator(
        db=kernel.db,
        http=kernel.http,
        secrets=kernel.state.courier_secrets,
        webhook_base_url=settings.webhook_base_url,
        delay_seconds=resolve_courier_delay(settings),
        poll_seconds=settings.simulator_poll_seconds,
    ).run()


def jobs(settings: DeliverySettings) -> list[PeriodicJob]:
    """Delivery's periodic jobs (the simulated couriers only with ``simulator_enabled``)."""
    listed = [PeriodicJob("webhook_receipt_pruner", settings.webhook_prune_seconds, prune_webhook_receipts)]
    if settings.simulator_enabled:
        # A worker that runs until the service stops; restarted after a second should it fail.
        listed.append(PeriodicJob("simulated_couriers", 1.0, simulated_couriers))
    return listed
