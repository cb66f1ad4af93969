"""Decisions: the tasks of an application (opened by ``routing.py``, one per deciding department,
all at once) settle it: approved when every task is approved, rejected at the first rejection
(the other tasks are cancelled). The certificate waits for any deferred materials (容缺)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from owkernel.auth import Principal
from owkernel.contracts import EventData
from owkernel.contracts.approval import (
    ApplicationApproved,
    ApplicationRejected,
    ClockClosed,
    TaskCancelled,
    TaskDecided,
)
from owkernel.errors import Conflict, Forbidden, NotFound, Unprocessable, field_error
from services.approval.calendar.service import load_calendar
from services.approval.calendar.workdays import WorkingCalendar
from services.approval.certificates import service as certificates
from services.approval.certificates.models import Certificate
from services.approval.clocks import repository as clocks_repository
from services.approval.clocks.models import ClockFacts
from services.approval.clocks.service import close_clocks
from services.approval.db import outbox
from services.approval.runtime import Runtime
from services.approval.tasks import repository
from services.approval.tasks.models import ApplicationFacts, DeferredMaterial, TaskFacts

log = structlog.get_logger("approval.tasks")


@dataclass
class Decided:
    """What a decision did: the task, its application and its clock as the decision read them
    (rows, not objects: issue 22), and what it wrote of them."""

    task: TaskFacts
    application: ApplicationFacts
    # The task's clock as read (None only if its row is missing); ``clock_closed`` says whether
    # this decision stopped it.
    clock: ClockFacts | None
    clock_closed: bool
    # The task's new status, opinion, decider and moment, and the application's status after.
    status: str
    opinion: str
    decided_by: str
    decided_at: datetime
    application_status: str
    certificate: Certificate | None


def may_decide(principal: Principal, task: TaskFacts) -> bool:
    """Only an approver of the task's own department decides it."""
    return principal.has_role("approver") and principal.department == task.department


async def decide(
    session: AsyncSession, *, runtime: Runtime, task_id: str, principal: Principal, decision: str, opinion: str
) -> Decided:
    """Record one department's decision and settle the application when it is the last (or a rejection)."""
    application, task, tasks = await _task_to_decide(session, task_id=task_id, principal=principal)
    opinion = _opinion(decision, opinion)
    now = runtime.now()
    status = "approved" if decision == "approve" else "rejected"
    # Every read comes before the first write, and the rows are written by statement (each
    # object taking the values as its row's), not by the unit of work, whose flush cost more CPU
    # than the decision's statements. One read of the application's open clocks serves the
    # task's own clock and, when this decision settles the application, the application and
    # stage clocks.
    open_clocks = await clocks_repository.of_application_rows(
        session, application.application_no, statuses=("running", "suspended")
    )
    settles = status == "rejected" or all(t.status == "approved" for t in tasks if t is not task)
    # The working days used are counted only when the application's clock stops with this decision.
    calendar = await load_calendar(session) if settles and any(c.kind == "application" for c in open_clocks) else None
    by_id = {c.clock_id: c for c in open_clocks}
    clock = by_id.get(task.clock_id)
    # A rejection cancels the other open tasks.
    cancelled = [t for t in tasks if t.status == "open" and t is not task] if status == "rejected" else []
    whole = [c for c in open_clocks if c.kind in ("application", "stage")] if settles else []
    used = _working_days_used(runtime, whole, now=now, calendar=calendar)
    # Every clock this decision stops, in one UPDATE; their events go out in the order below.
    stops = [(clock, status)] if clock is not None else []
    stops += [(c, "cancelled") for t in cancelled if (c := by_id.get(t.clock_id)) is not None]
    stops += [(c, status) for c in whole]
    closed = await close_clocks(session, runtime=runtime, stops=stops, at=now)
    await repository.write_task(
        session,
        task.task_id,
        {"status": status, "opinion": opinion, "decided_by": principal.display, "decided_at": now},
    )
    events: list[EventData] = [closed[clock.clock_id]] if clock is not None and clock.clock_id in closed else []
    events.append(
        TaskDecided(
            task_id=task.task_id,
            application_no=application.application_no,
            department=task.department,
            decision="approve" if decision == "approve" else "reject",
            opinion=opinion,
            decided_by=principal.display,
            decided_at=now,
        )
    )
    certificate = None
    application_status = application.status
    if status == "rejected":
        application_status = "rejected"
        await _reject(
            session,
            application=application,
            task=task,
            opinion=opinion,
            cancelled=cancelled,
            closed=closed,
            now=now,
            events=events,
        )
        events += [closed[c.clock_id] for c in whole if c.clock_id in closed]
        await repository.write_application(
            session,
            application.application_no,
            {"status": "rejected", "decided_at": now, "reason": opinion, "working_days_used": used},
        )
        events.append(
            ApplicationRejected(
                application_no=application.application_no,
                item_code=application.item_code,
                department=task.department,
                reason=opinion,
                decided_at=now,
                project_no=application.project_no,
                stage=application.stage,
            )
        )
        await outbox.add_many(session, events)
        log.info("application.rejected", application_no=application.application_no, department=task.department)
    elif settles:
        application_status = "approved"
        events += [closed[c.clock_id] for c in whole if c.clock_id in closed]
        await outbox.add_many(session, events)
        certificate = await _approve(session, runtime=runtime, application=application, now=now, used=used)
    else:
        await outbox.add_many(session, events)
    await session.flush()
    clock_closed = clock is not None and clock.clock_id in closed
    if clock is None:
        # The task's clock was not open (it stopped earlier): the caller still shows it.
        clock = await clocks_repository.get(session, task.clock_id)
    return Decided(
        task=task,
        application=application,
        clock=clock,
        clock_closed=clock_closed,
        status=status,
        opinion=opinion,
        decided_by=principal.display,
        decided_at=now,
        application_status=application_status,
        certificate=certificate,
    )


async def _task_to_decide(
    session: AsyncSession, *, task_id: str, principal: Principal
) -> tuple[ApplicationFacts, TaskFacts, list[TaskFacts]]:
    """The task, its application (locked) and every task of it, once the principal may decide the
    task and it is open."""
    # Every decision on one application takes the application's row lock first, so two
    # departments approving at the same moment cannot both miss being the last one. The lock is
    # reached from the task id in one statement (no unlocked read of the task before it); the
    # application's tasks are then read under the lock, fresh. A task changes only under its
    # application's lock (here, and the cancellations of a rejection), so the application's
    # lock is the task's too, and one read gives the task and its siblings (is it the last?).
    # Both are read as rows (never objects of the session, so never stale copies).
    application = await repository.lock_application_of_task(session, task_id)
    tasks = [] if application is None else await repository.tasks_of(session, application.application_no)
    task = next((t for t in tasks if t.task_id == task_id), None)
    if application is None or task is None:
        raise NotFound("No such task.")
    if not may_decide(principal, task):
        raise Forbidden("Only an approver of this task's department may decide it.")
    if task.status != "open":
        raise Conflict(f"This task is already {task.status}.")
    return application, task, tasks


def _opinion(decision: str, opinion: str) -> str:
    """The decision's opinion, trimmed; a rejection must have one."""
    opinion = opinion.strip()
    if decision == "reject" and not opinion:
        raise Unprocessable(
            "A rejection must give its reason.",
            errors=[field_error("body.opinion", "required to reject", "opinion_required")],
        )
    return opinion


def _working_days_used(
    runtime: Runtime, whole: Iterable[ClockFacts], *, now: datetime, calendar: WorkingCalendar | None
) -> int:
    """The working days the application used until ``now``, by its clock among ``whole`` (its and
    its stage's clocks; ``calendar`` is given whenever the application's clock is among them)."""
    used = 0
    for clock in whole:
        if clock.kind == "application" and calendar is not None:
            elapsed = calendar.working_days_between(clock.started_on, runtime.local_date(now)).days
            used = max(elapsed - clock.suspended_days, 0)
    return used


async def _approve(
    session: AsyncSession, *, runtime: Runtime, application: ApplicationFacts, now: datetime, used: int
) -> Certificate | None:
    # Every field of the application at once: one UPDATE of its row.
    await repository.write_application(
        session, application.application_no, {"status": "approved", "decided_at": now, "working_days_used": used}
    )
    await outbox.add(
        session,
        ApplicationApproved(
            application_no=application.application_no,
            item_code=application.item_code,
            departments=list(application.departments),
            decided_at=now,
            project_no=application.project_no,
            stage=application.stage,
            working_days_used=used,
        ),
    )
    log.info("application.approved", application_no=application.application_no)
    waits_for = await outstanding(session, application)
    if waits_for:
        # The decision stands; the result waits for the applicant's deferred materials.
        log.info("certificate.held", application_no=application.application_no, waits_for=waits_for)
        return None
    # The application was in review until now, and a certificate is issued only to an approved
    # one: none exists yet (the unique application_no still holds).
    return await certificates.issue(session, runtime=runtime, application=application, at=now, fresh=True)


async def outstanding(session: AsyncSession, application: ApplicationFacts) -> list[str]:
    """The codes of the application's deferred materials not supplied yet."""
    if not application.deferred_materials:
        # The rows are made from this snapshot of the acceptance (routing; migration 0005 for
        # older applications): without it there are none to read.
        return []
    rows = await repository.deferred_of(session, application.application_no)
    return [m.code for m in rows if m.supplied_at is None]


async def mark_overdue(
    session: AsyncSession, *, application_no: str, code: str, at: datetime
) -> DeferredMaterial | None:
    """Note that a deferred material passed its deadline (the applicant's delay)."""
    for material in await repository.deferred_of(session, application_no):
        if material.code == code:
            if material.overdue_at is None:
                material.overdue_at = at
            return material
    return None


async def material_supplied(
    session: AsyncSession, *, runtime: Runtime, application_no: str, code: str, at: datetime
) -> Certificate | None:
    """A deferred material arrived: when it was the last one of an approved application, its
    certificate is issued now. Returns the certificate so issued."""
    application = await repository.get_application(session, application_no, lock=True)
    if application is None:
        raise NotFound(f"No application {application_no}.")
    deferred = await repository.deferred_of(session, application_no)
    for material in deferred:
        if material.code == code and material.supplied_at is None:
            material.supplied_at = at
    await session.flush()
    if application.status != "approved" or any(m.supplied_at is None for m in deferred):
        return None
    log.info("certificate.released", application_no=application_no, material_code=code)
    return await certificates.issue(session, runtime=runtime, application=application, at=runtime.now())


async def _reject(
    session: AsyncSession,
    *,
    application: ApplicationFacts,
    task: TaskFacts,
    opinion: str,
    cancelled: list[TaskFacts],
    closed: dict[str, ClockClosed],
    now: datetime,
    events: list[EventData],
) -> None:
    """Cancel the other open tasks of a rejected application (their clocks already stopped)."""
    for other in cancelled:
        await repository.write_task(
            session,
            other.task_id,
            {
                "status": "cancelled",
                "decided_at": now,
                "opinion": f"cancelled: {task.department} rejected the application",
            },
        )
        if other.clock_id in closed:
            events.append(closed[other.clock_id])
        events.append(
            TaskCancelled(
                task_id=other.task_id,
                application_no=application.application_no,
                department=other.department,
                reason=f"{task.department} rejected the application: {opinion}",
                cancelled_at=now,
            )
        )
