"""Every query behind the monthly assessment, and the published assessments themselves."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Integer, and_, case, delete, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from services.rating.assessments.models import Assessment
from services.rating.attribution.models import Application
from services.rating.inspections.models import Inspection
from services.rating.reviews.models import Review
from services.rating.supervision.models import Card, Clock, Visit

# A trip of these kinds means the application was not done fully online.
IN_PERSON = ("window", "appointment")


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0).cast(Integer)


async def satisfaction(
    session: AsyncSession, *, scope: str, lower: datetime, upper: datetime
) -> dict[str, tuple[int, int]]:
    """key -> (ratings, satisfied) over the period, annulled reviews left out."""
    key = Review.department if scope == "department" else Review.window
    rows = await session.execute(
        select(key, func.count(), _count_if(Review.score >= 3))
        .where(Review.annulled.is_(False), Review.rated_at >= lower, Review.rated_at < upper, key.is_not(None))
        .group_by(key)
    )
    return {str(r[0]): (int(r[1]), int(r[2])) for r in rows}


async def on_time(session: AsyncSession, *, scope: str, lower: datetime, upper: datetime) -> dict[str, tuple[int, int]]:
    """key -> (clocks closed, closed on time) over the period."""
    in_period = and_(Clock.closed_at >= lower, Clock.closed_at < upper)
    if scope == "department":
        query: Any = (
            select(Clock.department, func.count(), _count_if(Clock.on_time.is_(True)))
            .where(in_period, Clock.department.is_not(None))
            .group_by(Clock.department)
        )
    else:
        query = (
            select(Application.window, func.count(), _count_if(Clock.on_time.is_(True)))
            .select_from(Clock)
            .join(Application, Application.application_no == Clock.application_no)
            .where(in_period)
            .group_by(Application.window)
        )
    return {r[0]: (int(r[1]), int(r[2])) for r in await session.execute(query)}


async def red_cards(session: AsyncSession, *, scope: str, lower: datetime, upper: datetime) -> dict[str, int]:
    """key -> red cards raised over the period."""
    in_period = and_(Card.color == "red", Card.raised_at >= lower, Card.raised_at < upper)
    if scope == "department":
        query: Any = (
            select(Card.department, func.count())
            .where(in_period, Card.department.is_not(None))
            .group_by(Card.department)
        )
    else:
        query = (
            select(Application.window, func.count())
            .select_from(Card)
            .join(Application, Application.application_no == Card.application_no)
            .where(in_period)
            .group_by(Application.window)
        )
    return {r[0]: int(r[1]) for r in await session.execute(query)}


async def findings(session: AsyncSession, *, scope: str, first: date, nxt: date) -> dict[str, tuple[int, int]]:
    """key -> (findings, penalty points) inspected in the month."""
    key = Inspection.department if scope == "department" else Inspection.window
    rows = await session.execute(
        select(key, func.count(), func.coalesce(func.sum(Inspection.penalty_points), 0))
        .where(Inspection.inspected_on >= first, Inspection.inspected_on < nxt, key.is_not(None))
        .group_by(key)
    )
    return {str(r[0]): (int(r[1]), int(r[2])) for r in rows}


async def online(session: AsyncSession, *, scope: str, lower: datetime, upper: datetime) -> dict[str, tuple[int, int]]:
    """key -> (applications accepted, of which the applicant made no trip to the hall)."""
    key = Application.department if scope == "department" else Application.window
    trip = exists().where(Visit.application_no == Application.application_no, Visit.kind.in_(IN_PERSON))
    rows = await session.execute(
        select(key, func.count(), _count_if(~trip))
        .where(Application.accepted_at >= lower, Application.accepted_at < upper)
        .group_by(key)
    )
    return {str(r[0]): (int(r[1]), int(r[2])) for r in rows}


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
    after: tuple[str, str, str] | None,
    month: str | None,
    scope: str | None,
) -> list[Assessment]:
    """Published assessments: newest month first, then scope and key."""
    query = select(Assessment)
    if month is not None:
        query = query.where(Assessment.month == month)
    if scope is not None:
        query = query.where(Assessment.scope == scope)
    if after is not None:
        m, s, k = after
        query = query.where(
            or_(
                Assessment.month < m,
                and_(Assessment.month == m, Assessment.scope > s),
                and_(Assessment.month == m, Assessment.scope == s, Assessment.key > k),
            )
        )
    query = query.order_by(Assessment.month.desc(), Assessment.scope, Assessment.key).limit(limit)
    return list((await session.execute(query)).scalars())


async def get(session: AsyncSession, *, month: str, scope: str, key: str) -> Assessment | None:
    """One published assessment."""
    return await session.get(Assessment, (month, scope, key))
