"""Approval's app factory (``uvicorn --factory services.approval.app:create_app``)."""

from __future__ import annotations

from fastapi import FastAPI

from owkernel.app import create_service_app
from owkernel.auth import TokenVerifier
from services.approval.consumers import consumers
from services.approval.db import import_models, tables
from services.approval.settings import ApprovalSettings, get_settings


def create_app(settings: ApprovalSettings | None = None, *, verifier: TokenVerifier | None = None) -> FastAPI:
    """Build the approval service."""
    import_models()
    settings = settings or get_settings()
    return create_service_app(
        settings=settings,
        tables=tables,
        routers=[],
        consumers=consumers,
        title="OneWindow approval",
        description="Back-office routing, parallel stages, working-day clocks, cards, reminders, certificates.",
        verifier=verifier,
    )
