"""Rating's event handlers (what it consumes from other services)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from owkernel.consumer import ConsumerGroup
from owkernel.contracts import Envelope
from owkernel.contracts.approval import (
    ApplicationApproved,
    ApplicationRejected,
    CardRaised,
    ClockClosed,
    ClockOpened,
    ClockRescheduled,
)
from owkernel.contracts.intake import ApplicationAccepted, CatalogItemChanged, VisitRecorded
from services.rating.deps import kernel_of
from services.rating.figures import recording as figures
from services.rating.known_applications import service as known_applications
from services.rating.known_supervision import service as known_supervision
from services.rating.rectifications import service as rectifications

consumers = ConsumerGroup(service="rating")


@consumers.on(ApplicationAccepted)
async def on_accepted(session: AsyncSession, data: ApplicationAccepted, envelope: Envelope) -> None:
    """Who applied, for which item of which department, at which window, served by whom."""
    await known_applications.record_accepted(session, data=data)
    await figures.record_accepted(session, data=data, settings=kernel_of(session).settings)


@consumers.on(ApplicationApproved)
async def on_approved(session: AsyncSession, data: ApplicationApproved, envelope: Envelope) -> None:
    """Decided: its applicant may rate it now."""
    await known_applications.record_decision(
        session, application_no=data.application_no, decision="approved", decided_at=data.decided_at
    )
    await figures.record_decided(
        session, application_no=data.application_no, decided_at=data.decided_at, settings=kernel_of(session).settings
    )
    await figures.record_stage_use(session, data=data)


@consumers.on(ApplicationRejected)
async def on_rejected(session: AsyncSession, data: ApplicationRejected, envelope: Envelope) -> None:
    """Decided (rejected): rating allowed; a bad review is the rejecting department's case."""
    await known_applications.record_decision(
        session,
        application_no=data.application_no,
        decision="rejected",
        decided_at=data.decided_at,
        rejected_by=data.department,
    )
    await figures.record_decided(
        session, application_no=data.application_no, decided_at=data.decided_at, settings=kernel_of(session).settings
    )


@consumers.on(ClockOpened)
async def on_clock_opened(session: AsyncSession, data: ClockOpened, envelope: Envelope) -> None:
    """Every clock counts for the on-time rate; a rectification's clock also gives the case its due date."""
    await known_supervision.clock_opened(session, data=data)
    if data.clock_kind == "rectification":
        await rectifications.apply_clock_opened(session, data=data)


@consumers.on(ClockRescheduled)
async def on_clock_rescheduled(session: AsyncSession, data: ClockRescheduled, envelope: Envelope) -> None:
    """A due date moved; a rectification shows its new one."""
    await known_supervision.clock_rescheduled(session, data=data)
    if data.clock_kind == "rectification":
        await rectifications.apply_clock_rescheduled(session, data=data)


@consumers.on(CardRaised)
async def on_card(session: AsyncSession, data: CardRaised, envelope: Envelope) -> None:
    """Red cards cost assessment points; a rectification's card turns the case yellow or red."""
    await known_supervision.card_raised(session, data=data)
    if data.clock_kind == "rectification":
        await rectifications.apply_card(session, data=data)


@consumers.on(ClockClosed)
async def on_clock_closed(session: AsyncSession, data: ClockClosed, envelope: Envelope) -> None:
    """On time or late; for a rectification, supervision's verdict on its deadline."""
    await known_supervision.clock_closed(session, data=data)
    if data.clock_kind == "rectification":
        await rectifications.apply_clock_closed(session, data=data)


@consumers.on(VisitRecorded)
async def on_visit(session: AsyncSession, data: VisitRecorded, envelope: Envelope) -> None:
    """A trip to the hall: the application was not done fully online."""
    await known_supervision.visit_recorded(session, event_id=envelope.id, data=data)


@consumers.on(CatalogItemChanged)
async def on_catalog_item(session: AsyncSession, data: CatalogItemChanged, envelope: Envelope) -> None:
    """A catalog version: the figures compute the four project stages' promise from it."""
    await figures.record_catalog_item(session, data=data)
