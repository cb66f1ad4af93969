"""What intake publishes about an application besides its steps: waits, visits, and the shapes
events carry (the applicant, the delivery choice).

Every event goes through the outbox in the caller's transaction, beside the timeline entry or the
row it reports, so the two never disagree.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from owkernel.contracts.common import Address, Applicant, DeliveryChoice
from owkernel.contracts.intake import ApplicationResumed, ApplicationSuspended, SuspensionReason, VisitRecorded
from services.intake.applications import repository
from services.intake.applications.models import Application, ApplicationFacts, Suspension, TimelineFacts
from services.intake.common import local_today
from services.intake.db import outbox
from services.intake.settings import IntakeSettings


def applicant_of(app: ApplicationFacts) -> Applicant:
    """The applicant as events carry it."""
    kind: Literal["person", "enterprise"] = "enterprise" if app.applicant_kind == "enterprise" else "person"
    return Applicant(
        id_number=app.applicant_id_number,
        kind=kind,
        name=app.applicant_name,
        phone=app.applicant_phone,
        subject_id=app.applicant_subject_id,
    )


def delivery_of(app: ApplicationFacts) -> DeliveryChoice:
    """The delivery choice as events carry it."""
    address = app.delivery.get("address")
    return DeliveryChoice(
        method="mail" if app.delivery.get("method") == "mail" else "window",
        address=Address.model_validate(address) if address else None,
    )


async def suspend(
    session: AsyncSession,
    app: ApplicationFacts,
    *,
    key: str,
    reason: SuspensionReason,
    at: datetime,
    detail: dict[str, Any],
) -> TimelineFacts | None:
    """Start a wait for the applicant (once per key) and tell approval to stop the clock; the
    wait's timeline entry, or None when it had started already."""
    if await repository.get_suspension(session, app.id, key) is not None:
        return None
    session.add(Suspension(application_id=app.id, key=key, reason=reason, started_at=at))
    await outbox.add(session, ApplicationSuspended(application_no=app.application_no, key=key, reason=reason, at=at))
    return await repository.add_timeline(
        session, app.id, at=at, event="intake.application.suspended", detail={"key": key, "reason": reason, **detail}
    )


async def resume(session: AsyncSession, app: Application, *, key: str, at: datetime) -> None:
    """End a wait that is open under ``key`` and tell approval to run the clock again."""
    suspension = await repository.get_suspension(session, app.id, key)
    if suspension is None or suspension.ended_at is not None:
        return
    suspension.ended_at = at
    await outbox.add(session, ApplicationResumed(application_no=app.application_no, key=key, at=at))
    await repository.add_timeline(session, app.id, at=at, event="intake.application.resumed", detail={"key": key})


async def record_visit(
    session: AsyncSession,
    settings: IntakeSettings,
    *,
    id_number: str,
    kind: Literal["window", "appointment", "pickup"],
    window: str | None,
    application_no: str | None,
    item_code: str | None,
    at: datetime,
    hall: str | None = None,
) -> None:
    """Record and publish a trip the applicant actually made (to ``hall``, where known)."""
    repository.add_visit(
        session,
        id_number=id_number,
        kind=kind,
        window=window,
        application_no=application_no,
        item_code=item_code,
        at=at,
        day=local_today(settings, at),
    )
    await outbox.add(
        session,
        VisitRecorded(
            id_number=id_number,
            kind=kind,
            window=window if window in ("investment", "commercial", "general") else None,
            application_no=application_no,
            item_code=item_code,
            at=at,
            hall=hall,
        ),
    )
