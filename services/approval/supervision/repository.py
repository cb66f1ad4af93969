"""Every query of supervision: the card scan's claims, cards, records and the summary figures."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, case, func, insert, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.approval.clocks.models import Q_RED_PENDING, Q_YELLOW_PENDING, Clock
from services.approval.supervision.models import Card, SupervisionRecord

CLAIMED = (
    Clock.clock_id,
    Clock.kind,
    Clock.ref,
    Clock.department,
    Clock.application_no,
    Clock.project_no,
    Clock.stage,
    Clock.task_id,
    Clock.due_date,
)


async def claim_red(session: AsyncSession, *, today: date, limit: int) -> list[Any]:
    """Mark up to ``limit`` overdue running clocks red and return them (never the same clock twice).

    The inner query walks the partial index of clocks still to be carded, by due date; the
    outer UPDATE re-checks the level, so two scanners at once cannot both claim a clock.
    """
    due = (
        select(Clock.clock_id)
        .where(text(Q_RED_PENDING), Clock.due_date < today)
        .order_by(Clock.due_date)
        .limit(limit)
        .scalar_subquery()
    )
    stmt = (
        update(Clock)
        .where(Clock.clock_id.in_(due), Clock.card_level < 2)
        .values(card_level=2)
        .returning(*CLAIMED)
        .execution_options(synchronize_session=False)
    )
    return list((await session.execute(stmt)).all())


async def claim_yellow(session: AsyncSession, *, today: date, limit: int) -> list[Any]:
    """Mark up to ``limit`` running clocks that reached their yellow date yellow and return them."""
    due = (
        select(Clock.clock_id)
        .where(text(Q_YELLOW_PENDING), Clock.yellow_on <= today)
        .order_by(Clock.yellow_on)
        .limit(limit)
        .scalar_subquery()
    )
    stmt = (
        update(Clock)
        .where(Clock.clock_id.in_(due), Clock.card_level < 1)
        .values(card_level=1)
        .returning(*CLAIMED)
        .execution_options(synchronize_session=False)
    )
    return list((await session.execute(stmt)).all())


async def insert_cards(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Write cards in one statement."""
    if rows:
        await session.execute(insert(Card), rows)


async def list_cards(
    session: AsyncSession,
    *,
    color: str | None,
    department: str | None,
    kind: str | None,
    open_only: bool,
    after: tuple[str, str] | None,
    limit: int,
) -> list[tuple[Card, Clock]]:
    """Cards newest first, each with its clock."""
    query = select(Card, Clock).join(Clock, Clock.clock_id == Card.clock_id)
    if color:
        query = query.where(Card.color == color)
    if department:
        query = query.where(Card.department == department)
    if kind:
        query = query.where(Card.clock_kind == kind)
    if open_only:
        query = query.where(Clock.status != "closed")
    if after is not None:
        raised, card_id = datetime.fromisoformat(after[0]), after[1]
        query = query.where(or_(Card.raised_at < raised, and_(Card.raised_at == raised, Card.card_id < card_id)))
    query = query.order_by(Card.raised_at.desc(), Card.card_id.desc()).limit(limit)
    return [(r[0], r[1]) for r in (await session.execute(query)).all()]


async def add_record(session: AsyncSession, record: SupervisionRecord) -> None:
    """Keep a supervision record."""
    session.add(record)
    await session.flush()


async def list_records(
    session: AsyncSession, *, kind: str | None, after: tuple[str, int] | None, limit: int
) -> list[SupervisionRecord]:
    """Supervision records newest first."""
    query = select(SupervisionRecord)
    if kind:
        query = query.where(SupervisionRecord.kind == kind)
    if after is not None:
        at, rid = datetime.fromisoformat(after[0]), after[1]
        query = query.where(
            or_(SupervisionRecord.at < at, and_(SupervisionRecord.at == at, SupervisionRecord.id < rid))
        )
    query = query.order_by(SupervisionRecord.at.desc(), SupervisionRecord.id.desc()).limit(limit)
    return list((await session.execute(query)).scalars())


async def card_counts(session: AsyncSession) -> dict[tuple[str | None, str], int]:
    """Cards per (department, color)."""
    query = select(Card.department, Card.color, func.count()).group_by(Card.department, Card.color)
    return {(r[0], r[1]): int(r[2]) for r in (await session.execute(query)).all()}


async def clock_figures(session: AsyncSession, *, today: date) -> dict[tuple[str | None, str], dict[str, int]]:
    """Per (department, clock kind): open, closed, closed on time, open and overdue."""
    query = select(
        Clock.department,
        Clock.kind,
        func.sum(case((Clock.status != "closed", 1), else_=0)),
        func.sum(case((Clock.status == "closed", 1), else_=0)),
        func.sum(case((and_(Clock.status == "closed", Clock.on_time.is_(True)), 1), else_=0)),
        func.sum(case((and_(Clock.status != "closed", Clock.due_date < today), 1), else_=0)),
    ).group_by(Clock.department, Clock.kind)
    out: dict[tuple[str | None, str], dict[str, int]] = {}
    for r in (await session.execute(query)).all():
        out[(r[0], r[1])] = {
            "open": int(r[2] or 0),
            "closed": int(r[3] or 0),
            "on_time": int(r[4] or 0),
            "overdue_open": int(r[5] or 0),
        }
    return out
