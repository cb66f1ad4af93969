"""Every query of the calendar."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import cast

from sqlalchemy import Table, delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.approval.calendar.models import CalendarDay, CalendarYear

# Read before every use of the calendar (each routing, each approval): built once, since
# building a statement and its cache key costs more CPU than running this one.
# On the table's column, not the mapped attribute: a plain Core statement skips the ORM's
# execution context, most of this one's cost.
_YEARS = cast(Table, CalendarYear.__table__)
_STAMP = select(func.count(), func.coalesce(func.sum(_YEARS.c.revision), 0)).select_from(_YEARS)


async def stamp(session: AsyncSession) -> tuple[int, int]:
    """A fingerprint that changes whenever any year is added or changed."""
    row = (await session.execute(_STAMP)).one()
    return int(row[0]), int(row[1])


async def all_days(session: AsyncSession) -> list[tuple[int, date, str]]:
    """Every special day of every year with data: (year, day, kind)."""
    rows = await session.execute(select(CalendarDay.year, CalendarDay.day, CalendarDay.kind))
    return [(r.year, r.day, r.kind) for r in rows]


async def year_numbers(session: AsyncSession) -> set[int]:
    """The years with data."""
    return set((await session.execute(select(CalendarYear.year))).scalars())


async def get_year(session: AsyncSession, year: int) -> CalendarYear | None:
    """One year's header, if it has data."""
    return await session.get(CalendarYear, year)


async def days_of(session: AsyncSession, year: int) -> list[CalendarDay]:
    """One year's special days, in date order."""
    return list(
        (await session.execute(select(CalendarDay).where(CalendarDay.year == year).order_by(CalendarDay.day))).scalars()
    )


async def replace_days(session: AsyncSession, year: int, days: Iterable[tuple[date, str, str | None]]) -> None:
    """Replace a year's special days with ``days`` (day, kind, name)."""
    await session.execute(delete(CalendarDay).where(CalendarDay.year == year))
    rows = [{"day": d, "year": year, "kind": k, "name": n} for d, k, n in days]
    if rows:
        await session.execute(insert(cast(Table, CalendarDay.__table__)), rows)
