"""Rating's app factory (``uvicorn --factory services.rating.app:create_app``)."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy.exc import IntegrityError

from owkernel.app import Kernel, create_service_app
from owkernel.auth import TokenVerifier
from services.rating.assessments.endpoints import router as assessments
from services.rating.assessments.service import monthly
from services.rating.consumers import configure, consumers
from services.rating.db import import_models, tables
from services.rating.figures.endpoints import router as figures
from services.rating.inspections.endpoints import router as inspections
from services.rating.kiosks.endpoints import router as kiosks
from services.rating.messages.endpoints import router as messages
from services.rating.messages.service import sender_for
from services.rating.rectifications.endpoints import router as rectifications
from services.rating.reviews.endpoints import router as ratings
from services.rating.reviews.service import LinkSigner, load_link_secret
from services.rating.settings import RatingSettings, get_settings
from services.rating.surveys.endpoints import router as surveys


def create_app(settings: RatingSettings | None = None, *, verifier: TokenVerifier | None = None) -> FastAPI:
    """Build the rating service."""
    import_models()
    settings = settings or get_settings()
    configure(settings)
    signer = LinkSigner()

    async def load_signer(kernel: Kernel) -> None:
        # Two replicas starting together may both generate a secret: the loser reads the winner's.
        for _ in range(2):
            try:
                async with kernel.db.transaction() as session:
                    signer.secret = await load_link_secret(session, settings=settings)
                return
            except IntegrityError:
                continue

    return create_service_app(
        settings=settings,
        tables=tables,
        routers=[ratings, messages, kiosks, surveys, rectifications, inspections, assessments, figures],
        consumers=consumers,
        title="OneWindow rating",
        description="Rating: 好差评 from every channel, surveys, rectifications, satisfaction figures.",
        verifier=verifier,
        on_startup=[load_signer],
        background=[monthly],
        extra_state={"link_signer": signer, "message_sender": sender_for(settings)},
    )
