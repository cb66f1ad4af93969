"""The working-day calendar: anyone reads a year; an administrator enters or corrects one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from sqlalchemy.ext.asyncio import AsyncSession

from owkernel.app import SessionDep
from owkernel.roles import Admin
from services.approval.calendar import repository, service
from services.approval.calendar.schemas import CalendarIn, CalendarOut, SpecialDay
from services.approval.clocks.service import recompute_for_year
from services.approval.deps import RuntimeDep

router = APIRouter(prefix="/api/v1/calendar", tags=["calendar"])

Year = Annotated[int, Path(ge=2000, le=2200, description="Calendar year")]


async def calendar_out(session: AsyncSession, year: int) -> CalendarOut:
    """The API shape of one year."""
    header = await repository.get_year(session, year)
    if header is None:
        return CalendarOut(
            year=year,
            has_data=False,
            source=None,
            holidays=[],
            workdays=[],
            named_days=[],
            updated_at=None,
            updated_by=None,
            note=(
                f"No arrangement for {year} has been entered: deadlines that run into {year} are counted "
                "on weekends only, marked provisional, and recomputed when an administrator enters the year."
            ),
        )
    days = await repository.days_of(session, year)
    return CalendarOut(
        year=year,
        has_data=True,
        source=header.source,
        holidays=[d.day for d in days if d.kind == "holiday"],
        workdays=[d.day for d in days if d.kind == "workday"],
        named_days=[SpecialDay(date=d.day, name=d.name) for d in days if d.name],
        updated_at=header.updated_at,
        updated_by=header.updated_by,
        note=(
            "Statutory holidays are off; the listed weekend days are working days; other weekdays work."
            if header.source == "admin"
            else "Seeded from the chinesecalendar package; an administrator may correct it."
        ),
    )


@router.get("/{year}", response_model=CalendarOut)
async def get_calendar(year: Year, session: SessionDep) -> CalendarOut:
    """A year's holidays and adjusted working days, or the statement that it has none."""
    return await calendar_out(session, year)


@router.put("/{year}", response_model=CalendarOut)
async def put_calendar(
    year: Year, body: CalendarIn, session: SessionDep, principal: Admin, runtime: RuntimeDep
) -> CalendarOut:
    """Enter (or correct) a year; every open clock it moves is recomputed in the same transaction."""
    await service.put_year(
        session,
        year=year,
        holidays=body.holidays,
        workdays=body.workdays,
        by=principal.display,
        now=runtime.now(),
    )
    moved = await recompute_for_year(session, runtime=runtime, year=year, by=principal.display)
    out = await calendar_out(session, year)
    out.recomputed_clocks = moved
    return out
