"""Keeping approval's clocks and cards and intake's trips for the assessment."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from owkernel import RetryLater
from owkernel.contracts.approval import CardRaised, ClockClosed, ClockOpened, ClockRescheduled
from owkernel.contracts.intake import VisitRecorded
from services.rating.known_supervision import repository
from services.rating.known_supervision.models import Card, Visit


async def clock_opened(session: AsyncSession, *, data: ClockOpened) -> None:
    """A clock started (or its due date moved)."""
    # A repeat overwrites what it announces and keeps a closing that already arrived.
    await repository.upsert_clock(
        session,
        clock_id=data.clock_id,
        values={
            "kind": data.clock_kind,
            "ref": data.ref,
            "department": data.department,
            "application_no": data.application_no,
            "started_on": data.started_on,
            "due_date": data.due_date,
        },
    )


async def clock_rescheduled(session: AsyncSession, *, data: ClockRescheduled) -> None:
    """A clock's due date moved (suspension, extension, a year's calendar entered)."""
    if not await repository.reschedule_clock(session, data.clock_id, due_date=data.due_date):
        raise RetryLater(f"clock {data.clock_id} is not known yet")


async def clock_closed(session: AsyncSession, *, data: ClockClosed) -> None:
    """A clock stopped, on time or late."""
    if not await repository.close_clock(session, data.clock_id, closed_at=data.closed_at, on_time=data.on_time):
        # Approval publishes opened before closed on one stream; if closed comes first, wait.
        raise RetryLater(f"clock {data.clock_id} is not known yet")


async def card_raised(session: AsyncSession, *, data: CardRaised) -> None:
    """A yellow or red card (red ones cost points in the assessment)."""
    if await repository.get_card(session, data.card_id) is not None:
        return
    repository.add_card(
        session,
        Card(
            card_id=data.card_id,
            clock_id=data.clock_id,
            kind=data.clock_kind,
            ref=data.ref,
            department=data.department,
            application_no=data.application_no,
            color=data.color,
            due_date=data.due_date,
            raised_at=data.raised_at,
        ),
    )


async def visit_recorded(session: AsyncSession, *, event_id: str, data: VisitRecorded) -> None:
    """A trip the applicant made (an application without one was done fully online)."""
    if await repository.get_visit(session, event_id) is not None:
        return
    repository.add_visit(
        session, Visit(event_id=event_id, application_no=data.application_no, kind=data.kind, at=data.at)
    )
