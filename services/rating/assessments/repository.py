"""Every query behind the monthly assessment, and the published assessments themselves."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Integer, and_, case, delete, exists, func, literal_column, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from services.rating.assessments.models import Assessment
from services.rating.inspections.models import Inspection
from services.rating.known_applications.models import Application
from services.rating.known_supervision.models import Card, Clock, Visit
from services.rating.reviews.models import Review

# A trip of these kinds means the application was not done fully online.
IN_PERSON = ("window", "appointment")


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0).cast(Integer)


# What is not tied to an accepted application (a consultation's clock, a rectification's card)
# counts for the city's hall.
_APPLICATION_HALL: ColumnElement[str] = func.coalesce(Application.hall, literal_column("'CITY'"))

Keyed = dict[tuple[str, str], Any]


def _keyed(rows: Any, value: Any) -> Keyed:
    return {(str(r[0]), str(r[1])): value(r) for r in rows}


async def satisfaction(session: AsyncSession, *, scope: str, lower: datetime, upper: datetime) -> Keyed:
    """(hall, key) -> (ratings, satisfied) over the period, annulled reviews left out."""
    key = {"department": Review.department, "window": Review.window, "hall": Review.hall}[scope]
    rows = await session.execute(
        select(Review.hall, key, func.count(), _count_if(Review.score >= 3))
        .where(Review.annulled.is_(False), Review.rated_at >= lower, Review.rated_at < upper, key.is_not(None))
        .group_by(Review.hall, key)
    )
    return _keyed(rows, lambda r: (int(r[2]), int(r[3])))


async def on_time(session: AsyncSession, *, scope: str, lower: datetime, upper: datetime) -> Keyed:
    """(hall, key) -> (clocks closed, closed on time) over the period."""
    in_period = and_(Clock.closed_at >= lower, Clock.closed_at < upper)
    hall = _APPLICATION_HALL
    key: Any = {"department": Clock.department, "window": Application.window, "hall": hall}[scope]
    query = (
        select(hall, key, func.count(), _count_if(Clock.on_time.is_(True)))
        .select_from(Clock)
        .outerjoin(Application, Application.application_no == Clock.application_no)
        .where(in_period, key.is_not(None))
        .group_by(hall, key)
    )
    return _keyed(await session.execute(query), lambda r: (int(r[2]), int(r[3])))


async def red_cards(session: AsyncSession, *, scope: str, lower: datetime, upper: datetime) -> Keyed:
    """(hall, key) -> red cards raised over the period."""
    in_period = and_(Card.color == "red", Card.raised_at >= lower, Card.raised_at < upper)
    hall = _APPLICATION_HALL
    key: Any = {"department": Card.department, "window": Application.window, "hall": hall}[scope]
    query = (
        select(hall, key, func.count())
        .select_from(Card)
        .outerjoin(Application, Application.application_no == Card.application_no)
        .where(in_period, key.is_not(None))
        .group_by(hall, key)
    )
    return _keyed(await session.execute(query), lambda r: int(r[2]))


async def findings(session: AsyncSession, *, scope: str, first: date, nxt: date) -> Keyed:
    """(hall, key) -> (findings, penalty points) inspected in the month."""
    key = {"department": Inspection.department, "window": Inspection.window, "hall": Inspection.hall}[scope]
    rows = await session.execute(
        select(Inspection.hall, key, func.count(), func.coalesce(func.sum(Inspection.penalty_points), 0))
        .where(Inspection.inspected_on >= first, Inspection.inspected_on < nxt, key.is_not(None))
        .group_by(Inspection.hall, key)
    )
    return _keyed(rows, lambda r: (int(r[2]), int(r[3])))


async def online(session: AsyncSession, *, scope: str, lower: datetime, upper: datetime) -> Keyed:
    """(hall, key) -> (applications accepted, of which the applicant made no trip to the hall)."""
    key = {"department": Application.department, "window": Application.window, "hall": Application.hall}[scope]
    trip = exists().where(Visit.application_no == Application.application_no, Visit.kind.in_(IN_PERSON))
    rows = await session.execute(
        select(Application.hall, key, func.count(), _count_if(~trip))
        .where(Application.accepted_at >= lower, Application.accepted_at < upper)
        .group_by(Application.hall, key)
    )
    return _keyed(rows, lambda r: (int(r[2]), int(r[3])))


async def replace(session: AsyncSession, *, month: str, rows: list[Assessment]) -> None:
    """Publish a month's assessments, replacing an earlier computation of the same month."""
    await session.execute(delete(Assessment).where(Assessment.month == month))
    session.add_all(rows)


async def month_published(session: AsyncSession, *, month: str) -> bool:
    """True when some assessment of ``month`` is published."""
    found = await session.execute(select(Assessment.key).where(Assessment.month == month).limit(1))
    return found.first() is not None


async def page(
    session: AsyncSession,
    *,
    limit: int,
    after: tuple[str, str, str, str] | None,
    month: str | None,
    scope: str | None,
    hall: str | None = None,
) -> list[Assessment]:
    """Published assessments: newest month first, then scope and key (and hall)."""
    query = select(Assessment)
    if hall is not None:
        query = query.where(Assessment.hall == hall)
    if month is not None:
        query = query.where(Assessment.month == month)
    # Without a scope: the windows' and departments' (as before halls); the halls' own on asking.
    query = query.where(Assessment.scope == scope) if scope is not None else query.where(Assessment.scope != "hall")
    if after is not None:
        m, s, k, h = after
        query = query.where(
            or_(
                Assessment.month < m,
                and_(Assessment.month == m, Assessment.scope > s),
                and_(Assessment.month == m, Assessment.scope == s, Assessment.key > k),
                and_(Assessment.month == m, Assessment.scope == s, Assessment.key == k, Assessment.hall > h),
            )
        )
    query = query.order_by(Assessment.month.desc(), Assessment.scope, Assessment.key, Assessment.hall).limit(limit)
    return list((await session.execute(query)).scalars())


async def get(session: AsyncSession, *, month: str, scope: str, key: str, hall: str) -> Assessment | None:
    """One published assessment of a hall's window or department, or of a hall."""
    query = select(Assessment).where(
        Assessment.month == month, Assessment.hall == hall, Assessment.scope == scope, Assessment.key == key
    )
    return (await session.execute(query)).scalar_one_or_none()
