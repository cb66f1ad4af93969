"""Every query of the figures."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from owkernel.db import conflict_insert, upsert
from services.rating.figures.models import (
    FigureApplication,
    FigureHistory,
    FigureProject,
    FigureStageItem,
    FigureStageUse,
)
from services.rating.known_supervision.models import Card, Clock, Visit
from services.rating.reviews.models import RatingDaily

# Every application passes through these two: each statement is built once (per dialect and set
# of columns) and given its values as bound parameters, since building a statement and its cache
# key per event cost more CPU than running it. No FigureApplication is ever loaded as an object,
# so a plain UPDATE leaves no copy stale.
_APPLICATIONS = cast(Table, FigureApplication.__table__)
_SET_DECIDED = (
    update(_APPLICATIONS)
    .where(_APPLICATIONS.c.application_no == bindparam("b_application_no"))
    .returning(_APPLICATIONS.c.application_no)
)


async def upsert_application(session: AsyncSession, *, application_no: str, values: dict[str, Any]) -> None:
    """Insert an application, or overwrite ``values`` (a repeated acceptance keeps its decision)."""
    await upsert(
        session,
        _APPLICATIONS,
        {"application_no": application_no, **values},
        key="application_no",
        refresh=tuple(values),
    )


async def set_decided(session: AsyncSession, application_no: str, *, month: str) -> bool:
    """Record the month an application was decided; False when it is not known."""
    result = await session.execute(_SET_DECIDED, {"b_application_no": application_no, "decided_month": month})
    return result.scalar_one_or_none() is not None


async def add_project(session: AsyncSession, *, project_no: str, values: dict[str, Any]) -> None:
    """A project, once: its first accepted application's month and hall stay."""
    ins = conflict_insert(session, FigureProject)
    await session.execute(
        ins.values(project_no=project_no, **values).on_conflict_do_nothing(index_elements=[FigureProject.project_no])
    )


async def put_stage_use(session: AsyncSession, *, application_no: str, values: dict[str, Any]) -> None:
    """The working days an approved stage used (a repeat overwrites)."""
    ins = conflict_insert(session, FigureStageUse)
    await session.execute(
        ins.values(application_no=application_no, **values).on_conflict_do_update(
            index_elements=[FigureStageUse.application_no], set_=values
        )
    )


async def put_stage_item(session: AsyncSession, *, code: str, version: int, values: dict[str, Any]) -> None:
    """A catalog item's version; an older version arriving late changes nothing."""
    ins = conflict_insert(session, FigureStageItem)
    stmt = ins.values(code=code, version=version, **values).on_conflict_do_update(
        index_elements=[FigureStageItem.code],
        set_={"version": version, **values},
        where=FigureStageItem.version < version,
    )
    await session.execute(stmt)


async def put_history(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Imported months; a month imported again is replaced."""
    for row in rows:
        ins = conflict_insert(session, FigureHistory)
        values = {k: v for k, v in row.items() if k not in ("month", "hall")}
        await session.execute(
            ins.values(**row).on_conflict_do_update(
                index_elements=[FigureHistory.month, FigureHistory.hall], set_=values
            )
        )


async def history(session: AsyncSession, *, first: str, last: str, hall: str | None) -> Sequence[FigureHistory]:
    """Imported months in ``[first, last]``."""
    stmt = select(FigureHistory).where(FigureHistory.month.between(first, last))
    if hall is not None:
        stmt = stmt.where(FigureHistory.hall == hall)
    return (await session.scalars(stmt)).all()


async def accepted(session: AsyncSession, *, first: str, last: str, hall: str | None) -> list[tuple[Any, ...]]:
    """Per (month, hall, channel, secret, deferred): how many applications were accepted."""
    a = FigureApplication
    stmt = select(a.accepted_month, a.hall, a.channel, a.secret, a.deferred, func.count()).where(
        a.accepted_month.between(first, last)
    )
    if hall is not None:
        stmt = stmt.where(a.hall == hall)
    return [
        tuple(r)
        for r in (await session.execute(stmt.group_by(a.accepted_month, a.hall, a.channel, a.secret, a.deferred))).all()
    ]


async def completed_trips(session: AsyncSession, *, first: str, last: str, hall: str | None) -> list[tuple[Any, ...]]:
    """Per application decided in ``[first, last]``: its month, hall and the trips recorded for it."""
    a = FigureApplication
    trips = (
        select(Visit.application_no, func.count().label("trips"))
        .where(Visit.application_no.is_not(None))
        .group_by(Visit.application_no)
        .subquery()
    )
    stmt = (
        select(a.decided_month, a.hall, func.coalesce(trips.c.trips, 0))
        .outerjoin(trips, trips.c.application_no == a.application_no)
        .where(a.decided_month.between(first, last))
    )
    if hall is not None:
        stmt = stmt.where(a.hall == hall)
    return [tuple(r) for r in (await session.execute(stmt)).all()]


async def closed_clocks(session: AsyncSession, *, lower: datetime, upper: datetime) -> list[tuple[Any, ...]]:
    """Clocks closed in ``[lower, upper)``: when, kind, on time, and the application's hall if known."""
    stmt = (
        select(Clock.closed_at, Clock.kind, Clock.on_time, FigureApplication.hall)
        .outerjoin(FigureApplication, FigureApplication.application_no == Clock.application_no)
        .where(and_(Clock.closed_at >= lower, Clock.closed_at < upper))
    )
    return [tuple(r) for r in (await session.execute(stmt)).all()]


async def red_cards(session: AsyncSession, *, lower: datetime, upper: datetime) -> list[tuple[Any, ...]]:
    """Red cards raised in ``[lower, upper)`` (rectifications aside), with the application's hall if known."""
    stmt = (
        select(Card.raised_at, FigureApplication.hall)
        .outerjoin(FigureApplication, FigureApplication.application_no == Card.application_no)
        .where(Card.color == "red", Card.kind != "rectification", Card.raised_at >= lower, Card.raised_at < upper)
    )
    return [tuple(r) for r in (await session.execute(stmt)).all()]


async def satisfaction(session: AsyncSession, *, lower: Any, upper: Any, hall: str | None) -> list[tuple[Any, ...]]:
    """Per day: ratings and satisfied ones, from the ratings' own daily roll-up."""
    r = RatingDaily
    # Each rating is counted once per grouping: the channel rows hold every rating once; the hall
    # rows hold one hall's.
    where = [r.dim == "channel"] if hall is None else [r.dim == "hall", r.key == hall]
    stmt = (
        select(r.day, func.sum(r.n), func.sum(r.satisfied)).where(*where, r.day >= lower, r.day < upper).group_by(r.day)
    )
    return [tuple(r) for r in (await session.execute(stmt)).all()]


async def projects(session: AsyncSession, *, first: str, last: str, hall: str | None) -> list[tuple[Any, ...]]:
    """Per (month, hall): projects, key projects, their investment."""
    p = FigureProject
    stmt = select(p.month, p.hall, p.key_project, func.count(), func.sum(p.investment_fen)).where(
        p.month.between(first, last)
    )
    if hall is not None:
        stmt = stmt.where(p.hall == hall)
    return [tuple(r) for r in (await session.execute(stmt.group_by(p.month, p.hall, p.key_project))).all()]


async def stage_items(session: AsyncSession) -> Sequence[FigureStageItem]:
    """The active catalog items that are project stages."""
    stmt = select(FigureStageItem).where(FigureStageItem.active.is_(True), FigureStageItem.stage.is_not(None))
    return (await session.scalars(stmt.order_by(FigureStageItem.stage, FigureStageItem.code))).all()


async def stage_uses(session: AsyncSession) -> list[tuple[Any, ...]]:
    """Per stage: approved stages, their average and longest working days used."""
    u = FigureStageUse
    stmt = select(u.stage, func.count(), func.avg(u.working_days_used), func.max(u.working_days_used)).group_by(u.stage)
    return [tuple(r) for r in (await session.execute(stmt)).all()]
