"""Rating's app factory (``uvicorn --factory services.rating.app:create_app``)."""

from __future__ import annotations

from fastapi import FastAPI

from owkernel.app import create_service_app
from owkernel.auth import TokenVerifier
from owkernel.clock import Clock
from services.rating import jobs
from services.rating.assessments.endpoints import router as assessments
from services.rating.consumers import consumers
from services.rating.db import import_models, tables
from services.rating.deps import RatingState
from services.rating.figures.endpoints import router as figures
from services.rating.inspections.endpoints import router as inspections
from services.rating.kiosks.endpoints import router as kiosks
from services.rating.messages.endpoints import router as messages
from services.rating.messages.service import sender_for
from services.rating.rectifications.endpoints import router as rectifications
from services.rating.reviews.endpoints import router as ratings
from services.rating.reviews.links import LinkSigner
from services.rating.settings import RatingSettings, get_settings
from services.rating.surveys.endpoints import router as surveys


def create_app(
    settings: RatingSettings | None = None, *, verifier: TokenVerifier | None = None, clock: Clock | None = None
) -> FastAPI:
    """Build the rating service."""
    import_models()
    settings = settings or get_settings()
    return create_service_app(
        settings=settings,
        state=RatingState(link_signer=LinkSigner(), message_sender=sender_for(settings)),
        clock=clock,
        tables=tables,
        routers=[ratings, messages, kiosks, surveys, rectifications, inspections, assessments, figures],
        consumers=consumers,
        jobs=jobs.jobs(settings),
        startup=jobs.STARTUP,
        title="OneWindow rating",
        description="Rating: 好差评 from every channel, surveys, rectifications, satisfaction figures.",
        verifier=verifier,
    )
