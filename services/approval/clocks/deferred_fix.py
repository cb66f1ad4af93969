"""A one-time data fix: the old rule's suspensions for deferred materials (容缺) ended as if they
had never been. Apart from the clock engine in ``service.py`` because it runs once, at start-up,
and reads as its own steps: void the deferred waits, merge the others into runs, recount each
open clock from those runs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.approval.calendar.service import load_calendar
from services.approval.calendar.workdays import WorkingCalendar
from services.approval.clocks import repository
from services.approval.clocks.models import Clock, ClockEntry, DataFix, Suspension
from services.approval.clocks.service import rescheduled_event, schedule, suspended_days
from services.approval.db import outbox
from services.approval.runtime import Runtime

DEFERRED_FIX = "0005_deferred_materials_do_not_suspend"
NOTE = "容缺 no longer stops the clock: the waits for deferred materials are not counted"

# Overlapping waits merged: (start, end or None while open, the waits of the run).
Run = tuple[datetime, datetime | None, list[Suspension]]


def merged_waits(waits: list[Suspension]) -> list[Run]:
    """Overlapping waits merged into runs: (start, end or None while open, the waits of the run)."""
    runs: list[Run] = []
    for wait in sorted(waits, key=lambda w: w.started_at):
        if runs:
            start, end, members = runs[-1]
            if end is None or wait.started_at <= end:
                if end is not None and (wait.ended_at is None or wait.ended_at > end):
                    end = wait.ended_at
                runs[-1] = (start, end, [*members, wait])
                continue
        runs.append((wait.started_at, wait.ended_at, [wait]))
    return runs


async def end_deferred_suspensions(session: AsyncSession, *, runtime: Runtime) -> int | None:
    """Once: end the old rule's suspensions for deferred materials (容缺) of open applications, as
    if they had never been: each open clock's waited days are recounted from the other waits
    only (a correction, the fee), its due and yellow dates recomputed, its ledger says so.
    Returns how many clocks it moved, None if it had run already.

    A start-up job, not the Alembic revision, because the arithmetic is the working calendar as
    the database holds it (holidays and make-up days entered by the administrator) and the card
    rule from the settings, which live in the service.
    """
    now = runtime.now()
    fix = DataFix(name=DEFERRED_FIX, applied_at=now, detail={})
    if not await repository.claim_data_fix(session, fix):
        return None
    calendar = await load_calendar(session)
    moved = 0
    applications = await repository.applications_with_deferred_waits(session)
    for application_no in applications:
        runs = _runs_without_deferred(await repository.waits_of(session, application_no))
        clocks = await repository.of_application(session, application_no, statuses=("running", "suspended"))
        entries = await _suspension_entries(session, clocks)
        for clock in clocks:
            recount = _Recount(runtime=runtime, calendar=calendar, clock=clock, now=now)
            if recount.apply(session, old_entries=entries.get(clock.clock_id, []), runs=runs):
                moved += 1
                await outbox.add(session, rescheduled_event(clock, reason="suspension", at=now))
    fix.detail = {"applications": len(applications), "clocks_moved": moved}
    await session.flush()
    return moved


def _runs_without_deferred(waits: list[Suspension]) -> list[Run]:
    """The deferred waits made zero-length; the other waits merged into runs (each wait told its run's start)."""
    for wait in waits:
        if wait.reason == "deferred_material":
            # A wait of no length: it never stopped anything.
            wait.ended_at = wait.started_at
    runs = merged_waits([w for w in waits if w.reason != "deferred_material"])
    for start, _end, members in runs:
        for wait in members:
            wait.union_started_at = start
    return runs


async def _suspension_entries(session: AsyncSession, clocks: Sequence[Clock]) -> dict[str, list[ClockEntry]]:
    """The clocks' suspension ledger lines, by clock id."""
    by_clock: dict[str, list[ClockEntry]] = {}
    for entry in await repository.suspension_entries(session, [c.clock_id for c in clocks]):
        by_clock.setdefault(entry.clock_id, []).append(entry)
    return by_clock


class _Recount:
    """One open clock recounted from the remaining runs of waits, with its ledger lines."""

    def __init__(self, *, runtime: Runtime, calendar: WorkingCalendar, clock: Clock, now: datetime) -> None:
        self.runtime, self.calendar, self.clock, self.now = runtime, calendar, clock, now
        self.due_before = clock.due_date

    def apply(self, session: AsyncSession, *, old_entries: list[ClockEntry], runs: list[Run]) -> bool:
        """Void the old suspension lines, count the runs again, reschedule; True if a date moved."""
        clock = self.clock
        for entry in old_entries:
            # Kept for the record, counted no more (no dates: a calendar recount leaves it at 0).
            entry.reason = f"{entry.reason} [{entry.from_date} to {entry.to_date}, {entry.working_days} days: {NOTE}]"
            entry.working_days = 0
            entry.from_date = entry.to_date = None
        clock.suspended_days = 0
        clock.status, clock.suspended_since = "running", None
        recounted = [line for run in runs if (line := self._count(run)) is not None]
        changed = schedule(self.calendar, self.runtime.rule, clock)
        for entry in recounted:
            entry.due_after = clock.due_date
            session.add(entry)
        session.add(self._line(reason=NOTE, working_days=0, due_after=clock.due_date))
        return changed

    def _count(self, run: Run) -> ClockEntry | None:
        """One run of waits: an open one suspends the clock, an ended one adds its working days."""
        start, end, members = run
        clock = self.clock
        since = self.runtime.local_date(start)
        if end is None:
            clock.status, clock.suspended_since = "suspended", max(since, clock.started_on)
            return None
        until = self.runtime.local_date(end)
        days = suspended_days(self.calendar, clock, since, until)
        if days <= 0:
            return None
        clock.suspended_days += days
        reason = "; ".join(f"{w.reason} ({w.key})" for w in members)
        return self._line(
            reason=f"waiting for the applicant: {reason} (recounted without 容缺)",
            from_date=since,
            to_date=until,
            working_days=days,
            due_after=self.due_before,
        )

    def _line(
        self,
        *,
        reason: str,
        working_days: int,
        due_after: date,
        from_date: date | None = None,
        to_date: date | None = None,
    ) -> ClockEntry:
        """A suspension line of the clock's ledger, written by the data fix."""
        return ClockEntry(
            clock_id=self.clock.clock_id,
            kind="suspension",
            reason=reason,
            from_date=from_date,
            to_date=to_date,
            working_days=working_days,
            due_before=self.due_before,
            due_after=due_after,
            at=self.now,
            by="data fix",
        )
