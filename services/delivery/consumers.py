"""Delivery's event handlers (what it consumes from other services)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from structlog.contextvars import bound_contextvars

from owkernel.consumer import ConsumerGroup
from owkernel.contracts import Envelope
from owkernel.contracts.approval import CertificateIssued
from owkernel.contracts.intake import ApplicationAccepted
from services.delivery.known_applications import service

consumers = ConsumerGroup(service="delivery")


@consumers.on(ApplicationAccepted)
async def on_accepted(session: AsyncSession, data: ApplicationAccepted, envelope: Envelope) -> None:
    """Remember the applicant and the delivery choice."""
    with bound_contextvars(application_no=data.application_no):
        await service.remember_accepted(session, data=data)


@consumers.on(CertificateIssued)
async def on_certificate(session: AsyncSession, data: CertificateIssued, envelope: Envelope) -> None:
    """Mail the certificate or put it at the window."""
    with bound_contextvars(application_no=data.application_no):
        await service.dispatch_certificate(session, data=data)
