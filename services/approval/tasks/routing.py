"""Routing: an accepted application becomes one task per deciding department, all open at once,
each with its clock, beside the application's clock (and its stage's, for a project)."""

from __future__ import annotations

import uuid
from datetime import date
from functools import partial
from typing import Any, Protocol

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from owkernel.contracts import EventData
from owkernel.contracts.approval import TaskAssigned
from owkernel.contracts.intake import ApplicationAccepted
from owkernel.halls import CITY_HALL
from services.approval.calendar.service import load_calendar
from services.approval.clocks import repository as clocks_repository
from services.approval.clocks.models import Clock
from services.approval.clocks.service import new_clock, opened_event
from services.approval.db import outbox
from services.approval.runtime import Runtime
from services.approval.tasks import repository
from services.approval.tasks.models import DeferredMaterial

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
    # The calendar first: its read is the routing's only one, so it comes before any write.
    calendar = await load_calendar(session)
    # One INSERT that does nothing when the application is there already: the check whether it
    # was routed and the write of its row are one statement (and race-free on PostgreSQL).
    added = await repository.add_application_if_new(
        session,
        application_no=data.application_no,
        values=_application_values(data, departments=departments, lead=lead, started_on=started_on),
    )
    if not added:
        return False
    _add_deferred_materials(session, data)
    start: StartClock = partial(
        new_clock,
        runtime=runtime,
        calendar=calendar,
        started_on=started_on,
        working_days=item.committed_days,
        opened_at=now,
        application_no=data.application_no,
        project_no=data.project_no,
        stage=data.stage,
        hall=data.hall or CITY_HALL,
    )
    # The application was not routed before (checked above), so none of its clocks exists: they
    # and the tasks are written by statement, each kind in one, without the unit of work (nothing
    # else in this transaction holds them; a later read loads the rows).
    clocks: list[Clock] = []
    tasks: list[dict[str, Any]] = []
    events: list[EventData] = []
    for department in departments:
        task_id = str(uuid.uuid4())
        clock = start(kind="task", ref=task_id, department=department, task_id=task_id)
        clocks.append(clock)
        task = {
            "task_id": task_id,
            "application_no": data.application_no,
            "department": department,
            "lead": department == lead,
            "stage": data.stage,
            "status": "open",
            "clock_id": clock.clock_id,
            "created_at": now,
        }
        tasks.append(task)
        events.append(opened_event(clock))
        events.append(
            TaskAssigned(
                task_id=task_id,
                application_no=data.application_no,
                department=department,
                lead=department == lead,
                stage=data.stage,
                due_date=clock.due_date,
                provisional=clock.provisional,
            )
        )
    owner = lead or item.department
    clocks.append(start(kind="application", ref=data.application_no, department=owner))
    events.append(opened_event(clocks[-1]))
    if data.project_no and data.stage is not None:
        clocks.append(start(kind="stage", ref=stage_ref(data.application_no, data.stage), department=owner))
        events.append(opened_event(clocks[-1]))
    await clocks_repository.add_new(session, clocks)
    await repository.add_tasks(session, tasks)
    await outbox.add_many(session, events)
    await session.flush()
    log.info("application.routed", application_no=data.application_no, departments=departments, lead=lead)
    return True


class StartClock(Protocol):
    """new_clock with everything but the clock's own kind, ref and department given."""

    def __call__(self, *, kind: str, ref: str, department: str, task_id: str | None = None) -> Clock: ...


def _application_values(
    data: ApplicationAccepted, *, departments: list[str], lead: str | None, started_on: date
) -> dict[str, Any]:
    """The local copy of an accepted application, as its row's columns."""
    item = data.item
    return {
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
    }


def _add_deferred_materials(session: AsyncSession, data: ApplicationAccepted) -> None:
    """容缺: the review runs while these are outstanding; only the certificate waits for them."""
    for material in {m.code: m for m in data.deferred_materials}.values():
        session.add(
            DeferredMaterial(
                application_no=data.application_no, code=material.code, name=material.name, due_date=material.due_date
            )
        )
