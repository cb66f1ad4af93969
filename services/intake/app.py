"""Intake's app factory (``uvicorn --factory services.intake.app:create_app``)."""

from __future__ import annotations

from fastapi import FastAPI

from owkernel.app import create_service_app
from owkernel.auth import TokenVerifier
from services.intake.consumers import consumers
from services.intake.db import import_models, tables
from services.intake.settings import IntakeSettings, get_settings


def create_app(settings: IntakeSettings | None = None, *, verifier: TokenVerifier | None = None) -> FastAPI:
    """Build the intake service."""
    import_models()
    settings = settings or get_settings()
    return create_service_app(
        settings=settings,
        tables=tables,
        routers=[],
        consumers=consumers,
        title="OneWindow intake",
        description="Catalog, applications, one-window acceptance, projects, appointments, consultations.",
        verifier=verifier,
    )
