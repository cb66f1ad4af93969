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
from owkernel.contracts.approval import (
    ApplicationApproved,
    ApplicationRejected,
    TaskCancelled,
    TaskDecided,
)
from owkernel.errors import Conflict, Forbidden, NotFound, Unprocessable, field_error
from services.approval.calendar.service import load_calendar
from services.approval.certificates import service as certificates
from services.approval.certificates.models import Certificate
from services.approval.clocks import repository as clocks_repository
from services.approval.clocks.models import Clock
from services.approval.clocks.service import close_clock
from services.approval.db import outbox
from services.approval.runtime import Runtime
from services.approval.tasks import repository
from services.approval.tasks.models import Application, DeferredMaterial, Task

log = structlog.get_logger("approval.tasks")


@dataclass
class Decided:
    """What a decision did."""

    task: Task
    application: Application
    # The task's clock as the decision left it (None only if its row is missing).
    clock: Clock | None
    certificate: Certificate | None


def may_decide(principal: Principal, task: Task) -> bool:
    """Only an approver of the task's own department decides it."""
    return principal.has_role("approver") and principal.department == task.department


async def decide(
    session: AsyncSession, *, runtime: Runtime, task_id: str, principal: Principal, decision: str, opinion: str
) -> Decided:
    """Record one department's decision and settle the application when it is the last (or a rejection)."""
    application, task = await _task_to_decide(session, task_id=task_id, principal=principal)
    opinion = _opinion(decision, opinion)
    now = runtime.now()
    task.status = "approved" if decision == "approve" else "rejected"
    task.opinion = opinion
    task.decided_by = principal.display
    task.decided_at = now
    # One read of the application's open clocks serves the task's own clock and, when this
    # decision settles the application, the application and stage clocks.
    open_clocks = await clocks_repository.of_application(
        session, application.application_no, statuses=("running", "suspended")
    )
    by_id = {c.clock_id: c for c in open_clocks}
    clock = by_id.get(task.clock_id)
    if clock is not None:
        await close_clock(session, runtime=runtime, clock=clock, at=now, outcome=task.status)
    await outbox.add(
        session,
        TaskDecided(
            task_id=task.task_id,
            application_no=application.application_no,
            department=task.department,
            decision="approve" if decision == "approve" else "reject",
            opinion=opinion,
            decided_by=principal.display,
            decided_at=now,
        ),
    )
    certificate = await _settle(
        session, runtime=runtime, application=application, task=task, now=now, open_clocks=open_clocks
    )
    await session.flush()
    if clock is None:
        # The task's clock was not open (it stopped earlier): the caller still shows it.
        clock = await clocks_repository.get(session, task.clock_id)
    return Decided(task=task, application=application, clock=clock, certificate=certificate)


async def _task_to_decide(session: AsyncSession, *, task_id: str, principal: Principal) -> tuple[Application, Task]:
    """The task and its application, locked, once the principal may decide the task and it is open."""
    # Every decision on one application takes the application's row lock first, so two
    # departments approving at the same moment cannot both miss being the last one. The lock is
    # reached from the task id in one statement (no unlocked read of the task before it); the
    # task is then read under the lock, fresh.
    application = await repository.lock_application_of_task(session, task_id)
    task = None if application is None else await repository.get_task(session, task_id, lock=True)
    if application is None or task is None:
        raise NotFound("No such task.")
    if not may_decide(principal, task):
        raise Forbidden("Only an approver of this task's department may decide it.")
    if task.status != "open":
        raise Conflict(f"This task is already {task.status}.")
    return application, task


def _opinion(decision: str, opinion: str) -> str:
    """The decision's opinion, trimmed; a rejection must have one."""
    opinion = opinion.strip()
    if decision == "reject" and not opinion:
        raise Unprocessable(
            "A rejection must give its reason.",
            errors=[field_error("body.opinion", "required to reject", "opinion_required")],
        )
    return opinion


async def _settle(
    session: AsyncSession,
    *,
    runtime: Runtime,
    application: Application,
    task: Task,
    now: datetime,
    open_clocks: list[Clock],
) -> Certificate | None:
    """After a decision: a rejection settles the application, an approval only when it was the last."""
    if task.status == "rejected":
        by_id = {c.clock_id: c for c in open_clocks}
        await _reject(session, runtime=runtime, application=application, task=task, now=now, open_clocks=by_id)
        return None
    tasks = await repository.tasks_of(session, application.application_no)
    if not all(t.status == "approved" for t in tasks):
        return None
    return await _approve(session, runtime=runtime, application=application, now=now, open_clocks=open_clocks)


async def _close_whole(
    session: AsyncSession, *, runtime: Runtime, open_clocks: Iterable[Clock], outcome: str, now: datetime
) -> int:
    """Stop the application's and stage's clocks; the working days the application used."""
    used = 0
    for clock in open_clocks:
        if clock.kind == "application":
            calendar = await load_calendar(session)
            elapsed = calendar.working_days_between(clock.started_on, runtime.local_date(now)).days
            used = max(elapsed - clock.suspended_days, 0)
        if clock.kind in ("application", "stage"):
            await close_clock(session, runtime=runtime, clock=clock, at=now, outcome=outcome)
    return used


async def _approve(
    session: AsyncSession, *, runtime: Runtime, application: Application, now: datetime, open_clocks: list[Clock]
) -> Certificate | None:
    # The clocks first, then every field of the application at once: one UPDATE of its row.
    used = await _close_whole(session, runtime=runtime, open_clocks=open_clocks, outcome="approved", now=now)
    application.status = "approved"
    application.decided_at = now
    application.working_days_used = used
    await outbox.add(
        session,
        ApplicationApproved(
            application_no=application.application_no,
            item_code=application.item_code,
            departments=list(application.departments),
            decided_at=now,
            project_no=application.project_no,
            stage=application.stage,
            working_days_used=application.working_days_used,
        ),
    )
    log.info("application.approved", application_no=application.application_no)
    waits_for = await outstanding(session, application.application_no)
    if waits_for:
        # The decision stands; the result waits for the applicant's deferred materials.
        log.info("certificate.held", application_no=application.application_no, waits_for=waits_for)
        return None
    return await certificates.issue(session, runtime=runtime, application=application, at=now)


async def outstanding(session: AsyncSession, application_no: str) -> list[str]:
    """The codes of the application's deferred materials not supplied yet."""
    return [m.code for m in await repository.deferred_of(session, application_no) if m.supplied_at is None]


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
    runtime: Runtime,
    application: Application,
    task: Task,
    now: datetime,
    open_clocks: dict[str, Clock],
) -> None:
    application.status = "rejected"
    application.decided_at = now
    application.reason = task.opinion
    for other in await repository.tasks_of(session, application.application_no):
        if other.status != "open":
            continue
        other.status = "cancelled"
        other.decided_at = now
        other.opinion = f"cancelled: {task.department} rejected the application"
        clock = open_clocks.get(other.clock_id)
        if clock is not None:
            await close_clock(session, runtime=runtime, clock=clock, at=now, outcome="cancelled")
        await outbox.add(
            session,
            TaskCancelled(
                task_id=other.task_id,
                application_no=application.application_no,
                department=other.department,
                reason=f"{task.department} rejected the application: {task.opinion}",
                cancelled_at=now,
            ),
        )
    application.working_days_used = await _close_whole(
        session, runtime=runtime, open_clocks=open_clocks.values(), outcome="rejected", now=now
    )
    await outbox.add(
        session,
        ApplicationRejected(
            application_no=application.application_no,
            item_code=application.item_code,
            department=task.department,
            reason=task.opinion or "",
            decided_at=now,
            project_no=application.project_no,
            stage=application.stage,
        ),
    )
    log.info("application.rejected", application_no=application.application_no, department=task.department)
