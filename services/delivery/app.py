"""Delivery's app factory (``uvicorn --factory services.delivery.app:create_app``)."""

from __future__ import annotations

from fastapi import FastAPI

from owkernel.app import create_service_app
from owkernel.auth import TokenVerifier
from services.delivery.consumers import consumers
from services.delivery.db import import_models, tables
from services.delivery.settings import DeliverySettings, get_settings


def create_app(settings: DeliverySettings | None = None, *, verifier: TokenVerifier | None = None) -> FastAPI:
    """Build the delivery service."""
    import_models()
    settings = settings or get_settings()
    return create_service_app(
        settings=settings,
        tables=tables,
        routers=[],
        consumers=consumers,
        title="OneWindow delivery",
        description="Free mailing to every village, courier webhooks, window pickup, the finance bill.",
        verifier=verifier,
    )
