"""Gateway's app factory (``uvicorn --factory gateway.app:create_app``)."""

from __future__ import annotations

from fastapi import FastAPI

from gateway.consumers import consumers
from gateway.db import import_models, tables
from gateway.settings import GatewaySettings, get_settings
from owkernel.app import create_service_app
from owkernel.auth import TokenVerifier


def create_app(settings: GatewaySettings | None = None, *, verifier: TokenVerifier | None = None) -> FastAPI:
    """Build the gateway service."""
    import_models()
    settings = settings or get_settings()
    return create_service_app(
        settings=settings,
        tables=tables,
        routers=[],
        consumers=consumers,
        title="OneWindow gateway",
        description="The one door: identity, tokens, routing, payments.",
        verifier=verifier,
    )
