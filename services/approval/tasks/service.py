"""Routing and decisions: one task per deciding department, all open at once; approved when every
task is approved, rejected at the first rejection (the other tasks are cancelled)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import partial

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from owkernel.auth import Principal
from owkernel.contracts.approval import (
    ApplicationApproved,
    ApplicationRejected,
    TaskAssigned,
    TaskCancelled,
    TaskDecided,
)
from owkernel.contracts.intake import ApplicationAccepted
from owkernel.errors import Conflict, Forbidden, NotFound, Unprocessable
from owkernel.halls import CITY_HALL
from services.approval.calendar.service import load_calendar
from services.approval.certificates import service as certificates
from services.approval.certificates.models import Certificate
from services.approval.clocks import repository as clocks_repository
from services.approval.clocks.models import Clock
from services.approval.clocks.service import close_clock, open_clock
from services.approval.db import outbox
from services.approval.runtime import Runtime
from services.approval.tasks import repository
from services.approval.tasks.models import Application, DeferredMaterial, Task

log = structlog.get_logger("approval.tasks")


def deciding_departments(data: ApplicationAccepted) -> tuple[list[str], str | None]:
    """The departments that decide, in order without repeats, and the lead among them."""
    item = data.item
    departments = list(dict.fromkeys(item.departments or [item.department]))
    if item.lead_department in departments:
        lead: str | None = item.lead_department
    elif len(departments) == 1:
        lead = departments[0]
    else:
        lead = item.department if item.department in departments else None
    return departments, lead


def stage_ref(application_no: str, stage: int) -> str:
    """The ref of a stage clock ("APP-NO#stage", as the card contract says)."""
    return f"{application_no}#{stage}"


async def route_application(session: AsyncSession, *, runtime: Runtime, data: ApplicationAccepted) -> bool:
    """Open the tasks and clocks of an accepted application; False if it was routed already."""
    item = data.item
    departments, lead = deciding_departments(data)
    started_on = runtime.local_date(data.accepted_at)
    now = runtime.now()
    # One INSERT that does nothing when the application is there already: the check whether it
    # was routed and the write of its row are one statement (and race-free on PostgreSQL).
    added = await repository.add_application_if_new(
        session,
        application_no=data.application_no,
        values={
            "item_code": item.code,
            "item_version": item.version,
            "item_name": item.name,
            "item_kind": item.kind,
            "department": item.department,
            "departments": departments,
            "lead_department": lead,
            "committed_days": item.committed_days,
            "legal_days": item.legal_days,
            "applicant_id_number": data.applicant.id_number,
            "applicant_name": data.applicant.name,
            "applicant_kind": data.applicant.kind,
            "project_no": data.project_no,
            "stage": data.stage,
            "window": data.window,
            "clerk": data.clerk,
            "hall": data.hall or CITY_HALL,
            "deferred_materials": [m.model_dump(mode="json") for m in data.deferred_materials],
            "accepted_at": data.accepted_at,
            "started_on": started_on,
            "status": "in_review",
        },
    )
    if not added:
        return False
    # 容缺: the review runs while these are outstanding; only the certificate waits for them.
    for material in {m.code: m for m in data.deferred_materials}.values():
        session.add(
            DeferredMaterial(
                application_no=data.application_no, code=material.code, name=material.name, due_date=material.due_date
            )
        )
    calendar = await load_calendar(session)
    start = partial(
        open_clock,
        session,
        runtime=runtime,
        calendar=calendar,
        started_on=started_on,
        working_days=item.committed_days,
        opened_at=now,
        application_no=data.application_no,
        project_no=data.project_no,
        stage=data.stage,
        hall=data.hall or CITY_HALL,
        # The application was not routed before (checked above), so none of its clocks exists.
        fresh=True,
    )
    for department in departments:
        task_id = str(uuid.uuid4())
        clock = await start(kind="task", ref=task_id, department=department, task_id=task_id)
        session.add(
            Task(
                task_id=task_id,
                application_no=data.application_no,
                department=department,
                lead=department == lead,
                stage=data.stage,
                status="open",
                clock_id=clock.clock_id,
                created_at=now,
            )
        )
        await outbox.add(
            session,
            TaskAssigned(
                task_id=task_id,
                application_no=data.application_no,
                department=department,
                lead=department == lead,
                stage=data.stage,
                due_date=clock.due_date,
                provisional=clock.provisional,
            ),
        )
    owner = lead or item.department
    await start(kind="application", ref=data.application_no, department=owner)
    if data.project_no and data.stage is not None:
        await start(kind="stage", ref=stage_ref(data.application_no, data.stage), department=owner)
    await session.flush()
    log.info("application.routed", application_no=data.application_no, departments=departments, lead=lead)
    return True


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
    opinion = opinion.strip()
    if decision == "reject" and not opinion:
        raise Unprocessable(
            "A rejection must give its reason.", errors=[{"field": "body.opinion", "message": "required to reject"}]
        )
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
    certificate = None
    if decision == "reject":
        await _reject(session, runtime=runtime, application=application, task=task, now=now, open_clocks=by_id)
    else:
        tasks = await repository.tasks_of(session, application.application_no)
        if all(t.status == "approved" for t in tasks):
            certificate = await _approve(
                session, runtime=runtime, application=application, now=now, open_clocks=open_clocks
            )
    await session.flush()
    if clock is None:
        # The task's clock was not open (it stopped earlier): the caller still shows it.
        clock = await clocks_repository.get(session, task.clock_id)
    return Decided(task=task, application=application, clock=clock, certificate=certificate)


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
