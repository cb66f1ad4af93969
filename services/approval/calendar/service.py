"""The calendar's rules: seeding from the maintained package, the administrator's entry, loading."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from owkernel.errors import Unprocessable, field_error
from services.approval.calendar import repository
from services.approval.calendar.models import CalendarYear
from services.approval.calendar.workdays import WorkingCalendar, YearData

log = structlog.get_logger("approval.calendar")

# Per database, the calendar last loaded and the stamp it was loaded at: a change made by any
# process (an administrator's PUT on another replica) changes the stamp and forces a reload.
_CACHE: dict[str, tuple[tuple[int, int], WorkingCalendar]] = {}
DIRTY_KEY = "approval.calendar_dirty"


def _cache_key(session: AsyncSession) -> str:
    bind: Any = session.bind
    return str(getattr(bind, "url", id(bind)))


async def load_calendar(session: AsyncSession) -> WorkingCalendar:
    """The working-day calendar as the database holds it now (cached while unchanged)."""
    key = _cache_key(session)
    stamp = await repository.stamp(session)
    # A transaction that changed the calendar reads its own uncommitted rows: never cache those
    # (it may still roll back, and a later change could then carry the same stamp).
    dirty = bool(session.info.get(DIRTY_KEY))
    cached = _CACHE.get(key)
    if cached is not None and cached[0] == stamp and not dirty:
        return cached[1]
    holidays: dict[int, set[date]] = defaultdict(set)
    workdays: dict[int, set[date]] = defaultdict(set)
    for year, day, kind in await repository.all_days(session):
        (holidays if kind == "holiday" else workdays)[year].add(day)
    years = {
        y: YearData(holidays=frozenset(holidays[y]), workdays=frozenset(workdays[y]))
        for y in await repository.year_numbers(session)
    }
    calendar = WorkingCalendar(years)
    if not dirty:
        _CACHE[key] = (stamp, calendar)
    return calendar


def package_years() -> dict[int, list[tuple[date, str, str | None]]]:
    """Every year the chinesecalendar package publishes: (day, kind, name) per special day."""
    import chinese_calendar

    out: dict[int, list[tuple[date, str, str | None]]] = defaultdict(list)
    for day, name in chinese_calendar.holidays.items():
        out[day.year].append((day, "holiday", str(getattr(name, "value", name))))
    for day, name in chinese_calendar.workdays.items():
        out[day.year].append((day, "workday", str(getattr(name, "value", name))))
    return dict(out)


async def seed_from_package(session: AsyncSession, *, now: datetime) -> list[int]:
    """Enter every year the package knows and the database does not have yet."""
    have = await repository.year_numbers(session)
    seeded = []
    for year, days in sorted(package_years().items()):
        if year in have:
            continue
        session.add(CalendarYear(year=year, source="package", revision=1, updated_at=now, updated_by=None))
        await session.flush()
        await repository.replace_days(session, year, sorted(days))
        seeded.append(year)
    if seeded:
        log.info("calendar.seeded", years=seeded)
    return seeded


def validate_year(year: int, holidays: list[date], workdays: list[date]) -> None:
    """422 unless every date is in ``year``, no date is both, and adjusted working days are weekend days."""
    errors: list[dict[str, Any]] = []
    for name, days in (("holidays", holidays), ("workdays", workdays)):
        for i, day in enumerate(days):
            if day.year != year:
                errors.append(field_error(f"body.{name}.{i}", f"{day} is not in {year}", "day_not_in_year", year=year))
    for i, day in enumerate(workdays):
        if day.weekday() < 5:
            errors.append(
                field_error(
                    f"body.workdays.{i}",
                    f"{day} is a weekday; adjusted working days are weekend days",
                    "workday_not_weekend",
                )
            )
    for day in sorted(set(holidays) & set(workdays)):
        errors.append(
            field_error(
                "body", f"{day} is both a holiday and a working day", "holiday_and_workday", day=day.isoformat()
            )
        )
    if errors:
        raise Unprocessable("The calendar is not valid.", errors=errors)


async def put_year(
    session: AsyncSession, *, year: int, holidays: list[date], workdays: list[date], by: str, now: datetime
) -> CalendarYear:
    """Enter (or replace) a year's arrangement; the caller recomputes the clocks it affects."""
    validate_year(year, holidays, workdays)
    session.info[DIRTY_KEY] = True
    header = await repository.get_year(session, year)
    if header is None:
        header = CalendarYear(year=year, source="admin", revision=1, updated_at=now, updated_by=by)
        session.add(header)
    else:
        header.source = "admin"
        header.revision += 1
        header.updated_at = now
        header.updated_by = by
    await session.flush()
    days = [(d, "holiday", None) for d in sorted(set(holidays))] + [(d, "workday", None) for d in sorted(set(workdays))]
    await repository.replace_days(session, year, days)
    log.info("calendar.entered", year=year, holidays=len(set(holidays)), workdays=len(set(workdays)), by=by)
    return header
