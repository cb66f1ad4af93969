"""Approval's event handlers (what it consumes from other services).

Each handler runs in the consumer's transaction and is idempotent through the kernel's inbox;
the rules themselves are also safe to apply twice (a second acceptance of the same application
routes nothing). An event about an application approval has not seen yet is retried later.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from owkernel.consumer import ConsumerGroup, RetryLater
from owkernel.contracts import Envelope
from owkernel.contracts.delivery import ShipmentFailed
from owkernel.contracts.intake import (
    ApplicationAccepted,
    ApplicationResumed,
    ApplicationSuspended,
    ConsultationAsked,
    ConsultationReplied,
    MaterialOverdue,
    MaterialSupplemented,
)
from owkernel.contracts.rating import RectificationClosed, RectificationOpened
from owkernel.logs import bind_application
from services.approval.calendar.service import load_calendar
from services.approval.clocks import repository as clocks_repository
from services.approval.clocks import service as clocks
from services.approval.reminders import service as reminders
from services.approval.runtime import runtime_of
from services.approval.supervision import service as supervision
from services.approval.tasks import repository as tasks_repository
from services.approval.tasks import routing
from services.approval.tasks import service as tasks

consumers = ConsumerGroup(service="approval")


async def _known(session: AsyncSession, application_no: str) -> None:
    if await tasks_repository.get_application(session, application_no) is None:
        raise RetryLater(f"application {application_no} not accepted here yet")


@consumers.on(ApplicationAccepted)
async def on_accepted(session: AsyncSession, data: ApplicationAccepted, envelope: Envelope) -> None:
    """Route an accepted application: a task per deciding department, its clocks."""
    bind_application(data.application_no)
    await routing.route_application(session, runtime=runtime_of(session), data=data)


@consumers.on(ApplicationSuspended)
async def on_suspended(session: AsyncSession, data: ApplicationSuspended, envelope: Envelope) -> None:
    """The applicant keeps the file waiting (a correction, the fee): the application's clocks stop."""
    bind_application(data.application_no)
    if data.reason == "deferred_material":
        # 容缺 never stops the flow: a deferred material holds the certificate, not the clocks.
        # Only an intake of the old rule still sends this; it is ignored.
        return
    await _known(session, data.application_no)
    await clocks.suspend_application(
        session,
        runtime=runtime_of(session),
        application_no=data.application_no,
        key=data.key,
        reason=data.reason,
        at=data.at,
    )


@consumers.on(ApplicationResumed)
async def on_resumed(session: AsyncSession, data: ApplicationResumed, envelope: Envelope) -> None:
    """A wait ended: when none is left, the clocks run again, their deadlines moved."""
    bind_application(data.application_no)
    await _known(session, data.application_no)
    outcome = await clocks.resume_application(
        session, runtime=runtime_of(session), application_no=data.application_no, key=data.key, at=data.at
    )
    if outcome == "unknown" and not data.key.startswith("material:"):
        # A deferred material's wait was never started (see on_suspended): nothing to resume.
        raise RetryLater(f"no wait {data.key!r} started on {data.application_no} yet")


@consumers.on(MaterialSupplemented)
async def on_material_supplemented(session: AsyncSession, data: MaterialSupplemented, envelope: Envelope) -> None:
    """A deferred material arrived: the last one releases an approved application's certificate."""
    bind_application(data.application_no)
    await _known(session, data.application_no)
    await tasks.material_supplied(
        session,
        runtime=runtime_of(session),
        application_no=data.application_no,
        code=data.material_code,
        at=data.at,
    )


@consumers.on(MaterialOverdue)
async def on_material_overdue(session: AsyncSession, data: MaterialOverdue, envelope: Envelope) -> None:
    """A deferred material missed its deadline: the applicant's delay, on record and reminded.

    It is kept apart from the department's clocks (no card, no effect on its on-time rate): the
    review never waited for the material, only the certificate does.
    """
    bind_application(data.application_no)
    application = await tasks_repository.get_application(session, data.application_no)
    if application is None:
        raise RetryLater(f"application {data.application_no} not accepted here yet")
    material = await tasks.mark_overdue(
        session, application_no=data.application_no, code=data.material_code, at=envelope.occurred_at
    )
    department = application.lead_department or application.department
    await supervision.record(
        session,
        kind="material_overdue",
        application_no=data.application_no,
        ref=data.material_code,
        department=department,
        detail={
            "material_code": data.material_code,
            "due_date": data.due_date.isoformat(),
            "delay_by": "applicant",
            "certificate_held": application.status == "approved",
        },
        at=envelope.occurred_at,
    )
    await reminders.remind_applicant_of_material(
        session,
        application_no=data.application_no,
        department=department,
        id_number=application.applicant_id_number,
        material_code=data.material_code,
        material_name=material.name if material is not None else data.material_code,
        due_date=data.due_date.isoformat(),
        now=envelope.occurred_at,
    )


@consumers.on(ConsultationAsked)
async def on_consultation_asked(session: AsyncSession, data: ConsultationAsked, envelope: Envelope) -> None:
    """An online consultation opens a reply clock for the department."""
    runtime = runtime_of(session)
    clock = clocks.new_clock(
        runtime=runtime,
        calendar=await load_calendar(session),
        kind="consultation",
        ref=data.consultation_id,
        department=data.department,
        started_on=runtime.local_date(data.asked_at),
        working_days=data.reply_days,
        opened_at=data.asked_at,
    )
    await clocks.open_clock(session, clock)


@consumers.on(ConsultationReplied)
async def on_consultation_replied(session: AsyncSession, data: ConsultationReplied, envelope: Envelope) -> None:
    """A consultation was answered: its reply clock stops."""
    clock = await clocks_repository.by_ref(session, "consultation", data.consultation_id)
    if clock is None:
        raise RetryLater(f"consultation {data.consultation_id} not seen yet")
    await clocks.close_clock(session, runtime=runtime_of(session), clock=clock, at=data.replied_at, outcome="replied")


@consumers.on(RectificationOpened)
async def on_rectification_opened(session: AsyncSession, data: RectificationOpened, envelope: Envelope) -> None:
    """A bad review or an inspection finding: a rectification clock for the department."""
    runtime = runtime_of(session)
    clock = clocks.new_clock(
        runtime=runtime,
        calendar=await load_calendar(session),
        kind="rectification",
        ref=data.rectification_id,
        department=data.department,
        started_on=runtime.local_date(data.opened_at),
        working_days=data.due_working_days,
        opened_at=data.opened_at,
        application_no=data.application_no,
    )
    await clocks.open_clock(session, clock)


@consumers.on(RectificationClosed)
async def on_rectification_closed(session: AsyncSession, data: RectificationClosed, envelope: Envelope) -> None:
    """A rectification was done (or annulled): its clock stops."""
    clock = await clocks_repository.by_ref(session, "rectification", data.rectification_id)
    if clock is None:
        raise RetryLater(f"rectification {data.rectification_id} not seen yet")
    await clocks.close_clock(session, runtime=runtime_of(session), clock=clock, at=data.closed_at, outcome=data.outcome)


@consumers.on(ShipmentFailed)
async def on_shipment_failed(session: AsyncSession, data: ShipmentFailed, envelope: Envelope) -> None:
    """A delivery failed: supervision keeps it on record (the certificate must still reach its holder)."""
    bind_application(data.application_no)
    application = await tasks_repository.get_application(session, data.application_no)
    await supervision.record(
        session,
        kind="shipment_failed",
        application_no=data.application_no,
        ref=data.shipment_id,
        department=(application.lead_department or application.department) if application else None,
        detail={"reason": data.reason, "action": data.action, "shipment_id": data.shipment_id},
        at=data.at,
    )
