"""Intake's app factory (``uvicorn --factory services.intake.app:create_app``)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from owkernel.app import create_service_app
from owkernel.auth import TokenVerifier
from owkernel.clock import Clock
from services.intake import jobs
from services.intake.applications.endpoints import router as applications_router
from services.intake.appointments.endpoints import router as appointments_router
from services.intake.catalog.endpoints import router as catalog_router
from services.intake.consultations.endpoints import router as consultations_router
from services.intake.consumers import consumers
from services.intake.db import import_models, tables
from services.intake.departments.endpoints import router as departments_router
from services.intake.deps import IntakeState
from services.intake.halls.endpoints import router as halls_router
from services.intake.projects.endpoints import router as projects_router
from services.intake.settings import IntakeSettings, get_settings
from services.intake.storage import LocalFileStorage


def create_app(
    settings: IntakeSettings | None = None, *, verifier: TokenVerifier | None = None, clock: Clock | None = None
) -> FastAPI:
    """Build the intake service."""
    import_models()
    settings = settings or get_settings()
    return create_service_app(
        settings=settings,
        state=IntakeState(storage=LocalFileStorage(Path(settings.storage_dir))),
        clock=clock,
        tables=tables,
        routers=[
            catalog_router,
            applications_router,
            projects_router,
            appointments_router,
            consultations_router,
            halls_router,
            departments_router,
        ],
        consumers=consumers,
        jobs=jobs.jobs(settings),
        title="OneWindow intake",
        description="Catalog, applications, one-window acceptance, projects, appointments, consultations.",
        verifier=verifier,
    )
