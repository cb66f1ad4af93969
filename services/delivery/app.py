"""Delivery's app factory (``uvicorn --factory services.delivery.app:create_app``)."""

from __future__ import annotations

from fastapi import FastAPI

from owkernel.app import create_service_app
from owkernel.auth import TokenVerifier
from owkernel.clock import Clock
from services.delivery import jobs
from services.delivery.billing.endpoints import router as bill_router
from services.delivery.consumers import consumers
from services.delivery.db import import_models, tables
from services.delivery.deps import DeliveryState
from services.delivery.partners.couriers import parse_courier_apis
from services.delivery.partners.endpoints import router as partners_router
from services.delivery.partners.secrets import resolve_courier_secrets
from services.delivery.pickups.endpoints import router as pickups_router
from services.delivery.regions.endpoints import router as regions_router
from services.delivery.settings import DeliverySettings, get_settings
from services.delivery.shipments.endpoints import router as shipments_router
from services.delivery.webhooks.endpoints import router as webhooks_router


def create_app(
    settings: DeliverySettings | None = None, *, verifier: TokenVerifier | None = None, clock: Clock | None = None
) -> FastAPI:
    """Build the delivery service."""
    import_models()
    settings = settings or get_settings()
    return create_service_app(
        settings=settings,
        state=DeliveryState(
            courier_secrets=resolve_courier_secrets(settings), couriers=parse_courier_apis(settings.courier_apis)
        ),
        clock=clock,
        tables=tables,
        routers=[shipments_router, webhooks_router, pickups_router, bill_router, regions_router, partners_router],
        consumers=consumers,
        jobs=jobs.jobs(settings),
        title="OneWindow delivery",
        description="Free mailing to every village, courier webhooks, window pickup, the finance bill.",
        verifier=verifier,
    )
