"""Approval's app factory (``uvicorn --factory services.approval.app:create_app``)."""

from __future__ import annotations

from fastapi import FastAPI

from owkernel.app import create_service_app
from owkernel.auth import TokenVerifier
from owkernel.clock import Clock
from services.approval import jobs
from services.approval.calendar.endpoints import router as calendar_router
from services.approval.certificates.endpoints import router as certificates_router
from services.approval.clocks.endpoints import router as clocks_router
from services.approval.consumers import consumers
from services.approval.db import import_models, tables
from services.approval.runtime import Runtime
from services.approval.settings import ApprovalSettings, get_settings
from services.approval.supervision.endpoints import router as supervision_router
from services.approval.tasks.endpoints import router as tasks_router


def create_app(
    settings: ApprovalSettings | None = None, *, verifier: TokenVerifier | None = None, clock: Clock | None = None
) -> FastAPI:
    """Build the approval service (``clock`` lets tests move time)."""
    import_models()
    settings = settings or get_settings()
    runtime = Runtime.build(settings, clock)
    return create_service_app(
        settings=settings,
        state=runtime,
        clock=runtime.clock,
        tables=tables,
        routers=[tasks_router, supervision_router, calendar_router, certificates_router, clocks_router],
        consumers=consumers,
        jobs=jobs.jobs(settings),
        startup=jobs.STARTUP,
        title="OneWindow approval",
        description="Back-office routing, parallel stages, working-day clocks, cards, reminders, certificates.",
        verifier=verifier,
    )
