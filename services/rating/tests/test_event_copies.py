"""Rating's copies of approval's clocks and of applications: repeats, out-of-order arrival, one batch."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from owkernel import RetryLater
from owkernel.contracts.approval import ClockClosed, ClockOpened, ClockRescheduled
from services.rating.known_applications import service as attribution
from services.rating.known_applications.models import Application
from services.rating.known_supervision import service as supervision
from services.rating.known_supervision.models import Clock
from services.rating.tests.harness import Client, accepted, idn, unique

DAY = date(2026, 3, 2)


def opened(clock_id: str, *, due: date, department: str = "D-1") -> ClockOpened:
    """approval.clock.opened of a task clock."""
    return ClockOpened(
        clock_id=clock_id,
        clock_kind="task",
        ref=unique("T-"),
        department=department,
        application_no="APP-1",
        started_on=DAY,
        due_date=due,
        working_days=5,
    )


def closed(clock_id: str, *, on_time: bool) -> ClockClosed:
    """approval.clock.closed of a task clock."""
    return ClockClosed(clock_id=clock_id, clock_kind="task", ref="T", on_time=on_time, closed_at=datetime.now(UTC))


async def clock_row(rating: Client, clock_id: str) -> Clock | None:
    """The clock as committed."""
    async with rating.svc.kernel.db.transaction() as session:
        clock: Clock | None = await session.get(Clock, clock_id)
        return clock


async def test_clock_events_in_and_out_of_order(rating: Client) -> None:
    db = rating.svc.kernel.db
    clock_id = unique("C-")
    # Closed or moved before it was opened: retried later, nothing written.
    for early in (
        closed(clock_id, on_time=True),
        ClockRescheduled(
            clock_id=clock_id, clock_kind="task", ref="T", due_date=DAY, reason="extension", at=datetime.now(UTC)
        ),
    ):
        with pytest.raises(RetryLater):
            async with db.transaction() as session:
                if isinstance(early, ClockClosed):
                    await supervision.clock_closed(session, data=early)
                else:
                    await supervision.clock_rescheduled(session, data=early)
    assert await clock_row(rating, clock_id) is None

    # Opened and closed in one transaction (one consumer batch).
    async with db.transaction() as session:
        await supervision.clock_opened(session, data=opened(clock_id, due=DAY + timedelta(days=7)))
        await supervision.clock_closed(session, data=closed(clock_id, on_time=False))
    row = await clock_row(rating, clock_id)
    assert row is not None and row.on_time is False and row.closed_at is not None
    assert row.due_date == DAY + timedelta(days=7) and row.department == "D-1"

    # Opened again (a repeat with a later due date and another department): the announcement is
    # overwritten, the closing that already arrived is kept.
    async with db.transaction() as session:
        await supervision.clock_opened(session, data=opened(clock_id, due=DAY + timedelta(days=9), department="D-2"))
    again = await clock_row(rating, clock_id)
    assert again is not None and again.on_time is False and again.closed_at == row.closed_at
    assert again.due_date == DAY + timedelta(days=9) and again.department == "D-2"

    async with db.transaction() as session:
        await supervision.clock_rescheduled(
            session,
            data=ClockRescheduled(
                clock_id=clock_id,
                clock_kind="task",
                ref="T",
                due_date=DAY + timedelta(days=12),
                reason="extension",
                at=datetime.now(UTC),
            ),
        )
        await supervision.clock_closed(session, data=closed(clock_id, on_time=True))
    moved = await clock_row(rating, clock_id)
    assert moved is not None and moved.due_date == DAY + timedelta(days=12) and moved.on_time is True


async def test_application_copy_keeps_its_decision(rating: Client) -> None:
    db = rating.svc.kernel.db
    no = unique("APP")
    decided_at = datetime.now(UTC)
    with pytest.raises(RetryLater):
        async with db.transaction() as session:
            await attribution.record_decision(session, application_no=no, decision="approved", decided_at=decided_at)

    # Accepted and rejected in one transaction (one consumer batch).
    async with db.transaction() as session:
        await attribution.record_accepted(session, data=accepted(no, id_number=idn(), clerk="clerk_a"))
        await attribution.record_decision(
            session, application_no=no, decision="rejected", decided_at=decided_at, rejected_by="D-MARKET"
        )
    # The acceptance again (with another clerk): its fields are refreshed, the decision stays.
    async with db.transaction() as session:
        await attribution.record_accepted(session, data=accepted(no, id_number=idn(), clerk="clerk_b", lead="D-LEAD"))
    async with db.transaction() as session:
        app = await session.get(Application, no)
        assert app is not None
        assert (app.decision, app.rejected_by, app.clerk, app.department) == (
            "rejected",
            "D-MARKET",
            "clerk_b",
            "D-LEAD",
        )
        assert app.decided_at is not None
