"""Applying intake's and approval's events to rating's copy of applications."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from owkernel import RetryLater
from owkernel.contracts.intake import ApplicationAccepted
from services.rating.attribution import repository
from services.rating.attribution.models import Application


def primary_department(data: ApplicationAccepted) -> str:
    """The department a rating counts for: the lead of a parallel item, else the item's owner."""
    return data.item.lead_department or data.item.department


async def record_accepted(session: AsyncSession, *, data: ApplicationAccepted) -> Application:
    """Remember who applied for what, where, and who served them (the attribution of ratings)."""
    application = await repository.get_for_update(session, data.application_no)
    if application is None:
        application = Application(application_no=data.application_no)
        repository.add(session, application)
    application.applicant_id_number = data.applicant.id_number
    application.applicant_kind = data.applicant.kind
    application.applicant_name = data.applicant.name
    application.applicant_phone = data.applicant.phone
    application.item_code = data.item.code
    application.item_name = data.item.name
    application.item_version = data.item.version
    application.department = primary_department(data)
    application.departments = list(data.item.departments or [data.item.department])
    application.window = data.window
    application.clerk = data.clerk
    application.accepted_at = data.accepted_at
    return application


async def record_decision(
    session: AsyncSession,
    *,
    application_no: str,
    decision: str,
    decided_at: datetime,
    rejected_by: str | None = None,
) -> None:
    """The application is decided: its applicant may rate it from now on."""
    application = await repository.get_for_update(session, application_no)
    if application is None:
        # The decision overtook the acceptance on the bus: wait for the acceptance.
        raise RetryLater(f"application {application_no} is not known yet")
    application.decision = decision
    application.decided_at = decided_at
    application.rejected_by = rejected_by
