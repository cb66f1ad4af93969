"""The figures' facts, kept from the events: each handler writes rows keyed by what the event is
about (an application, a project, a stage, a catalog item), so a repeated event changes nothing;
the kernel's inbox makes each event once anyway. ``service.py`` sums them when asked."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from owkernel.contracts.approval import ApplicationApproved
from owkernel.contracts.intake import ApplicationAccepted, CatalogItemChanged
from owkernel.halls import CITY_HALL
from services.rating.figures import repository
from services.rating.figures.service import month_of
from services.rating.settings import RatingSettings


async def record_accepted(session: AsyncSession, *, data: ApplicationAccepted, settings: RatingSettings) -> None:
    """An application handled: its month, hall, channel, secrecy, 容缺, and its project once."""
    hall = data.hall or CITY_HALL
    month = month_of(data.accepted_at, settings)
    await repository.upsert_application(
        session,
        application_no=data.application_no,
        values={
            "hall": hall,
            "accepted_month": month,
            "channel": data.channel or "unknown",
            "secret": data.item.secret,
            "deferred": bool(data.deferred_materials),
        },
    )
    if data.project_no is not None and data.project_investment_fen is not None:
        await repository.add_project(
            session,
            project_no=data.project_no,
            values={
                "hall": hall,
                "month": month,
                "investment_fen": data.project_investment_fen,
                "key_project": bool(data.project_key),
            },
        )


async def record_decided(
    session: AsyncSession, *, application_no: str, decided_at: datetime, settings: RatingSettings
) -> None:
    """A completed application: its trips count in the month it was decided."""
    # The attribution's copy, written by the same handler as this one, already waits for an
    # acceptance that is late; one still unknown here was accepted before the figures existed.
    await repository.set_decided(session, application_no, month=month_of(decided_at, settings))


async def record_stage_use(session: AsyncSession, *, data: ApplicationApproved) -> None:
    """An approved project stage: the working days it really used."""
    if data.stage is None or data.working_days_used is None:
        return
    await repository.put_stage_use(
        session,
        application_no=data.application_no,
        values={"project_no": data.project_no, "stage": data.stage, "working_days_used": data.working_days_used},
    )


async def record_catalog_item(session: AsyncSession, *, data: CatalogItemChanged) -> None:
    """A catalog version: the project stages' promise is computed from the stage items."""
    if data.stage is None:
        # Not a stage item (now): forget it if it was one, else there is nothing to keep.
        await repository.put_stage_item(
            session,
            code=data.item.code,
            version=data.item.version,
            values={"stage": None, "name": data.item.name, "departments": [], "committed_days": 0, "active": False},
        )
        return
    await repository.put_stage_item(
        session,
        code=data.item.code,
        version=data.item.version,
        values={
            "stage": data.stage,
            "name": data.item.name,
            "departments": list(data.item.departments or [data.item.department]),
            "committed_days": data.item.committed_days,
            "active": data.status == "active",
        },
    )
