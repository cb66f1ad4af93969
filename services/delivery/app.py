"""Delivery's app factory (``uvicorn --factory services.delivery.app:create_app``)."""

from __future__ import annotations

from fastapi import FastAPI

from owkernel.app import BackgroundJob, Kernel, create_service_app
from owkernel.auth import TokenVerifier
from services.delivery.billing.endpoints import router as bill_router
from services.delivery.consumers import consumers
from services.delivery.db import import_models, tables
from services.delivery.partners.endpoints import router as partners_router
from services.delivery.partners.secrets import resolve_courier_delay, resolve_courier_secrets
from services.delivery.partners.simulated import Simulator
from services.delivery.pickups.endpoints import router as pickups_router
from services.delivery.regions.endpoints import router as regions_router
from services.delivery.settings import DeliverySettings, get_settings
from services.delivery.shipments.endpoints import router as shipments_router
from services.delivery.webhooks.endpoints import router as webhooks_router
from services.delivery.webhooks.jobs import webhook_receipt_pruner


def create_app(settings: DeliverySettings | None = None, *, verifier: TokenVerifier | None = None) -> FastAPI:
    """Build the delivery service."""
    import_models()
    settings = settings or get_settings()
    secrets = resolve_courier_secrets(settings)
    background: list[BackgroundJob] = [webhook_receipt_pruner]
    if settings.simulator_enabled:
        delay = resolve_courier_delay(settings)

        async def simulated_couriers(kernel: Kernel) -> None:
            """The simulated partners post their signed status reports to our webhook."""
            await Simulator(
                db=kernel.db,
                http=kernel.http,
                secrets=secrets,
                webhook_base_url=settings.webhook_base_url,
                delay_seconds=delay,
                poll_seconds=settings.simulator_poll_seconds,
            ).run()

        background.append(simulated_couriers)
    return create_service_app(
        settings=settings,
        tables=tables,
        routers=[shipments_router, webhooks_router, pickups_router, bill_router, regions_router, partners_router],
        consumers=consumers,
        background=background,
        title="OneWindow delivery",
        description="Free mailing to every village, courier webhooks, window pickup, the finance bill.",
        verifier=verifier,
        extra_state={"courier_secrets": secrets},
    )
