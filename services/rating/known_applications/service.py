"""Applying intake's and approval's events to rating's copy of applications."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from owkernel import RetryLater
from owkernel.contracts.intake import ApplicationAccepted
from owkernel.halls import CITY_HALL
from services.rating.known_applications import repository


def primary_department(data: ApplicationAccepted) -> str:
    """The department a rating counts for: the lead of a parallel item, else the item's owner."""
    return data.item.lead_department or data.item.department


async def record_accepted(session: AsyncSession, *, data: ApplicationAccepted) -> None:
    """Remember who applied for what, where, and who served them (the attribution of ratings)."""
    # A repeat overwrites the acceptance and keeps a decision that already arrived.
    await repository.upsert(
        session,
        application_no=data.application_no,
        values={
            "applicant_id_number": data.applicant.id_number,
            "applicant_kind": data.applicant.kind,
            "applicant_name": data.applicant.name,
            "applicant_phone": data.applicant.phone,
            "item_code": data.item.code,
            "item_name": data.item.name,
            "item_version": data.item.version,
            "department": primary_department(data),
            "departments": list(data.item.departments or [data.item.department]),
            "window": data.window,
            "clerk": data.clerk,
            "hall": data.hall or CITY_HALL,
            "accepted_at": data.accepted_at,
        },
    )


async def record_decision(
    session: AsyncSession,
    *,
    application_no: str,
    decision: str,
    decided_at: datetime,
    rejected_by: str | None = None,
) -> None:
    """The application is decided: its applicant may rate it from now on."""
    if not await repository.set_decision(
        session, application_no, decision=decision, decided_at=decided_at, rejected_by=rejected_by
    ):
        # The decision overtook the acceptance on the bus: wait for the acceptance.
        raise RetryLater(f"application {application_no} is not known yet")
