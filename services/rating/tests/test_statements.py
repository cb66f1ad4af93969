"""Statement budgets of what every application brings rating (issue 22): its acceptance, its two
clocks opened and closed, its approval, each one statement per fact kept. A change that adds a
round trip (a read before a write, a reload after one) shows here as a number."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from owkernel.contracts import EventData, make_envelope
from owkernel.contracts.approval import ClockClosed, ClockOpened
from services.rating.consumers import consumers
from services.rating.known_applications.models import Application
from services.rating.known_supervision.models import Clock
from services.rating.tests.harness import Client, accepted, approved, idn, unique


async def test_an_application_costs_one_statement_per_fact(rating: Client) -> None:
    no = unique("STMT")
    today = date.today()
    # Rating's copy of the application and the figures' row.
    assert len(await rating.handle_counted(consumers, accepted(no, id_number=idn()))) <= 2
    clocks = [(unique("C-"), "task", unique("T-")), (unique("C-"), "application", no)]
    for clock_id, kind, ref in clocks:
        opened = ClockOpened(
            clock_id=clock_id,
            clock_kind=kind,
            ref=ref,
            department="D-MARKET",
            application_no=no,
            started_on=today,
            due_date=today + timedelta(days=7),
            working_days=5,
        )
        assert len(await rating.handle_counted(consumers, opened)) <= 1
    for clock_id, kind, ref in clocks:
        closed = ClockClosed(
            clock_id=clock_id, clock_kind=kind, ref=ref, on_time=True, closed_at=datetime.now(UTC), application_no=no
        )
        assert len(await rating.handle_counted(consumers, closed)) <= 1
    # The copy's decision and the figures' decided month.
    assert len(await rating.handle_counted(consumers, approved(no))) <= 2

    async with rating.svc.kernel.db.transaction() as session:
        application = await session.get(Application, no)
        assert application is not None and application.decision == "approved"
        assert application.decided_at is not None
        for clock_id, _, _ in clocks:
            clock = await session.get(Clock, clock_id)
            assert clock is not None and clock.on_time is True and clock.closed_at is not None


async def apply(session: AsyncSession, data: EventData) -> None:
    """Apply one event as the consumer would, in ``session``'s transaction."""
    envelope = make_envelope(data, source="test")
    await consumers.handlers[envelope.type](session, data, envelope)


async def test_a_loaded_copy_takes_the_update(rating: Client) -> None:
    """An application or clock already in the session shows what the handler wrote, unreloaded."""
    no = unique("STMT")
    clock_id = unique("C-")
    today = date.today()
    async with rating.svc.kernel.db.transaction() as session:
        await apply(session, accepted(no, id_number=idn()))
        await apply(
            session,
            ClockOpened(
                clock_id=clock_id,
                clock_kind="task",
                ref=unique("T-"),
                department="D-MARKET",
                application_no=no,
                started_on=today,
                due_date=today,
                working_days=5,
            ),
        )
    async with rating.svc.kernel.db.transaction() as session:
        application = await session.get(Application, no)
        clock = await session.get(Clock, clock_id)
        assert application is not None and application.decision is None
        assert clock is not None and clock.on_time is None
        decision = approved(no)
        await apply(session, decision)
        closed = ClockClosed(
            clock_id=clock_id, clock_kind="task", ref=clock.ref, on_time=False, closed_at=datetime.now(UTC)
        )
        await apply(session, closed)
        assert application.decision == "approved" and application.decided_at == decision.decided_at
        assert clock.on_time is False and clock.closed_at == closed.closed_at
