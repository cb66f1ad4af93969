"""The supervision engine: one clock mechanism for tasks, stages, applications, consultations and
rectifications. A clock runs ``working_days`` from the day after it starts; waiting for the
applicant stops it (the deadline then moves by exactly the working days waited), an extension
adds time, and every change is a ledger line with its reason."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from owkernel.contracts.approval import ClockClosed, ClockOpened, ClockRescheduled
from owkernel.errors import Conflict, Unprocessable
from owkernel.halls import CITY_HALL
from services.approval.calendar.service import load_calendar
from services.approval.calendar.workdays import WorkingCalendar
from services.approval.clocks import repository
from services.approval.clocks.models import Clock, ClockEntry, ClockFacts, Suspension
from services.approval.db import outbox
from services.approval.runtime import CardRule, Runtime

APPLICATION_KINDS = ("task", "stage", "application")


def schedule(calendar: WorkingCalendar, rule: CardRule, clock: Clock) -> bool:
    """Set the clock's due date, yellow date and provisional flag; True if any of them moved."""
    budget = clock.working_days + clock.extension_days
    due = calendar.add_working_days(clock.started_on, budget + clock.suspended_days)
    yellow = calendar.add_working_days(clock.started_on, rule.yellow_offset(budget) + clock.suspended_days)
    before = (clock.due_date, clock.yellow_on, clock.provisional)
    clock.due_date, clock.yellow_on, clock.provisional = due.due, yellow.due, due.provisional
    return before != (clock.due_date, clock.yellow_on, clock.provisional)


def opened_event(clock: Clock) -> ClockOpened:
    """The event announcing a clock."""
    return ClockOpened(
        clock_id=clock.clock_id,
        clock_kind=clock.kind,
        ref=clock.ref,
        department=clock.department,
        application_no=clock.application_no,
        started_on=clock.started_on,
        due_date=clock.due_date,
        working_days=clock.working_days,
        provisional=clock.provisional,
        project_no=clock.project_no,
        stage=clock.stage,
        hall=clock.hall,
    )


def rescheduled_event(clock: Clock, *, reason: str, at: datetime) -> ClockRescheduled:
    """The event announcing a clock's new due date."""
    return ClockRescheduled(
        clock_id=clock.clock_id,
        clock_kind=clock.kind,
        ref=clock.ref,
        department=clock.department,
        application_no=clock.application_no,
        due_date=clock.due_date,
        provisional=clock.provisional,
        reason=reason,
        suspended_days=clock.suspended_days,
        extension_days=clock.extension_days,
        at=at,
    )


def new_clock(
    *,
    runtime: Runtime,
    calendar: WorkingCalendar,
    kind: str,
    ref: str,
    department: str | None,
    started_on: date,
    working_days: int,
    opened_at: datetime,
    application_no: str | None = None,
    project_no: str | None = None,
    stage: int | None = None,
    task_id: str | None = None,
    hall: str = CITY_HALL,
) -> Clock:
    """A clock starting now, scheduled, not yet written (``open_clock`` or routing writes it)."""
    clock = Clock(
        clock_id=str(uuid.uuid4()),
        kind=kind,
        ref=ref,
        department=department,
        application_no=application_no,
        project_no=project_no,
        stage=stage,
        task_id=task_id,
        hall=hall,
        started_on=started_on,
        working_days=max(working_days, 0),
        suspended_days=0,
        extension_days=0,
        status="running",
        card_level=0,
        opened_at=opened_at,
    )
    schedule(calendar, runtime.rule, clock)
    return clock


async def open_clock(session: AsyncSession, clock: Clock) -> Clock:
    """Write and announce a clock ``new_clock`` made, once per kind and ref: a redelivered event
    finds the clock it opened before and gets that one."""
    if (existing := await repository.by_ref(session, clock.kind, clock.ref)) is not None:
        return existing
    session.add(clock)
    await outbox.add(session, opened_event(clock))
    return clock


async def close_clocks(
    session: AsyncSession, *, runtime: Runtime, stops: Sequence[tuple[ClockFacts, str]], at: datetime
) -> dict[str, ClockClosed]:
    """Stop clocks, each with its outcome, in one UPDATE: on time when one stops on or before its
    due date. A clock already closed is left as it is. Returns the closing events by clock id,
    for the caller to stage in the order its events go out."""
    changes = [
        (
            clock,
            {
                "status": "closed",
                "suspended_since": None,
                "closed_at": at,
                "on_time": runtime.local_date(at) <= clock.due_date,
                "outcome": outcome,
            },
        )
        for clock, outcome in stops
        if clock.status != "closed"
    ]
    await repository.write_closings(session, changes)
    return {
        clock.clock_id: ClockClosed(
            clock_id=clock.clock_id,
            clock_kind=clock.kind,
            ref=clock.ref,
            on_time=values["on_time"],
            closed_at=at,
            department=clock.department,
            application_no=clock.application_no,
            due_date=clock.due_date,
            outcome=values["outcome"],
            hall=clock.hall,
        )
        for clock, values in changes
    }


async def close_clock(session: AsyncSession, *, runtime: Runtime, clock: Clock, at: datetime, outcome: str) -> None:
    """Stop a clock (on time when it stops on or before its due date) and announce it."""
    closed = await close_clocks(session, runtime=runtime, stops=[(clock, outcome)], at=at)
    await outbox.add_many(session, list(closed.values()))


def suspended_days(calendar: WorkingCalendar, clock: Clock, since: date, until: date) -> int:
    """Working days of [since, until) the clock would have run (it never runs on its start day)."""
    first = max(since, clock.started_on + timedelta(days=1))
    return calendar.working_days_in(first, until).days


async def suspend_application(
    session: AsyncSession, *, runtime: Runtime, application_no: str, key: str, reason: str, at: datetime
) -> bool:
    """A wait for the applicant starts; the first of overlapping waits stops the clocks. False if a repeat."""
    active = await repository.active_suspensions(session, application_no)
    if any(s.key == key for s in active):
        return False
    union_started_at = active[0].union_started_at if active else at
    session.add(
        Suspension(
            application_no=application_no, key=key, reason=reason, started_at=at, union_started_at=union_started_at
        )
    )
    if not active:
        since = runtime.local_date(at)
        for clock in await repository.of_application(session, application_no, statuses=("running",)):
            clock.status = "suspended"
            clock.suspended_since = since
    await session.flush()
    return True


async def resume_application(
    session: AsyncSession, *, runtime: Runtime, application_no: str, key: str, at: datetime
) -> str:
    """A wait ends; when the last overlapping wait ends, the clocks run again with their deadlines
    moved by the working days waited. Returns "resumed", "still_waiting", "repeat" or "unknown"."""
    waits = await repository.suspension_by_key(session, application_no, key)
    current = next((s for s in waits if s.ended_at is None), None)
    if current is None:
        return "repeat" if waits else "unknown"
    current.ended_at = max(at, current.started_at)
    await session.flush()
    if await repository.active_suspensions(session, application_no):
        return "still_waiting"
    run = await repository.suspensions_of_run(session, application_no, current.union_started_at)
    reason = "; ".join(f"{s.reason} ({s.key})" for s in run)
    calendar = await load_calendar(session)
    until = runtime.local_date(current.ended_at)
    for clock in await repository.of_application(session, application_no, statuses=("suspended",)):
        since = clock.suspended_since or runtime.local_date(current.union_started_at)
        days = suspended_days(calendar, clock, since, until)
        due_before = clock.due_date
        clock.suspended_days += days
        clock.status = "running"
        clock.suspended_since = None
        moved = schedule(calendar, runtime.rule, clock)
        session.add(
            ClockEntry(
                clock_id=clock.clock_id,
                kind="suspension",
                reason=f"waiting for the applicant: {reason}",
                from_date=since,
                to_date=until,
                working_days=days,
                due_before=due_before,
                due_after=clock.due_date,
                at=at,
            )
        )
        if moved:
            await outbox.add(session, rescheduled_event(clock, reason="suspension", at=at))
    await session.flush()
    return "resumed"


async def extend(
    session: AsyncSession, *, runtime: Runtime, clock: Clock, working_days: int, reason: str, by: str
) -> ClockEntry:
    """Grant a clock more working days, with the reason on its ledger."""
    if clock.status == "closed":
        raise Conflict("This clock has stopped; it cannot be extended.")
    if working_days < 1:
        raise Unprocessable("An extension is at least one working day.")
    calendar = await load_calendar(session)
    now = runtime.now()
    due_before = clock.due_date
    clock.extension_days += working_days
    schedule(calendar, runtime.rule, clock)
    entry = ClockEntry(
        clock_id=clock.clock_id,
        kind="extension",
        reason=reason,
        working_days=working_days,
        due_before=due_before,
        due_after=clock.due_date,
        at=now,
        by=by,
    )
    session.add(entry)
    await session.flush()
    await outbox.add(session, rescheduled_event(clock, reason="extension", at=now))
    return entry


async def recompute_for_year(session: AsyncSession, *, runtime: Runtime, year: int, by: str) -> int:
    """After ``year``'s calendar changed: recompute every open clock it may move. Returns how many moved."""
    calendar = await load_calendar(session)
    now = runtime.now()
    moved = 0
    after = ""
    while True:
        batch = await repository.affected_by_year(session, year, after=after, limit=500)
        if not batch:
            return moved
        after = batch[-1].clock_id
        entries: dict[str, list[ClockEntry]] = {}
        for entry in await repository.suspension_entries(session, [c.clock_id for c in batch]):
            entries.setdefault(entry.clock_id, []).append(entry)
        for clock in batch:
            # The waits are recounted too: a wait inside the year just entered may hold more or
            # fewer working days than the weekend-only count said.
            for entry in entries.get(clock.clock_id, []):
                if entry.from_date is not None and entry.to_date is not None:
                    entry.working_days = suspended_days(calendar, clock, entry.from_date, entry.to_date)
            clock.suspended_days = sum(e.working_days for e in entries.get(clock.clock_id, []))
            due_before = clock.due_date
            if schedule(calendar, runtime.rule, clock):
                moved += 1
                session.add(
                    ClockEntry(
                        clock_id=clock.clock_id,
                        kind="calendar",
                        reason=f"the {year} calendar was entered",
                        working_days=0,
                        due_before=due_before,
                        due_after=clock.due_date,
                        at=now,
                        by=by,
                    )
                )
                await outbox.add(session, rescheduled_event(clock, reason="calendar", at=now))
        await session.flush()
