"""Rating's app factory (``uvicorn --factory services.rating.app:create_app``)."""

from __future__ import annotations

from fastapi import FastAPI

from owkernel.app import create_service_app
from owkernel.auth import TokenVerifier
from services.rating.consumers import consumers
from services.rating.db import import_models, tables
from services.rating.settings import RatingSettings, get_settings


def create_app(settings: RatingSettings | None = None, *, verifier: TokenVerifier | None = None) -> FastAPI:
    """Build the rating service."""
    import_models()
    settings = settings or get_settings()
    return create_service_app(
        settings=settings,
        tables=tables,
        routers=[],
        consumers=consumers,
        title="OneWindow rating",
        description="Rating: 好差评 from every channel, surveys, rectifications, satisfaction figures.",
        verifier=verifier,
    )
