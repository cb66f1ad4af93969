"""Every query of supervision: the card scan's claims, cards, records and the summary figures."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import String, Table, and_, any_, bindparam, case, func, insert, literal, or_, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from owkernel.db import UtcDateTime
from services.approval.clocks.models import Q_RED_PENDING, Q_YELLOW_PENDING, Clock
from services.approval.supervision.models import Card, SupervisionRecord
from services.approval.tasks.models import Application, DeferredMaterial

# Core tables for the scan's set-based statements: the ORM's bulk paths cost more than the rows.
CLOCKS = cast(Table, Clock.__table__)
CARDS = cast(Table, Card.__table__)


def among(session: AsyncSession, column: Any, ids: list[str]) -> Any:
    """``column IN ids``; on PostgreSQL one array parameter (``= ANY``) instead of thousands of
    expanded parameters, which SQLAlchemy would otherwise render and bind one by one."""
    bind: Any = session.bind
    if bind is not None and bind.dialect.name == "postgresql":
        return column == any_(bindparam("ids", ids, type_=ARRAY(String())))
    return column.in_(ids)


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
    Clock.hall,
)


async def _claim(
    session: AsyncSession, *, pending: str, date_column: Any, today: date, level: int, limit: int
) -> list[Any]:
    # Two statements on purpose: the SELECT walks the partial index of clocks still to be carded
    # by date (a million quiet clocks cost nothing); the UPDATE then reaches each chosen row by
    # primary key. (Folded into one UPDATE ... IN (subquery), PostgreSQL picks a hash semi-join
    # over the whole table.) The UPDATE re-checks status and level, so two scanners at once never
    # claim the same clock, nor one a clock stopped meanwhile: the row lock waits, then no match.
    due = select(Clock.clock_id).where(text(pending), date_column <= today).order_by(date_column).limit(limit)
    ids = list((await session.execute(due)).scalars())
    if not ids:
        return []
    table = CLOCKS
    stmt = (
        update(table)
        .where(among(session, table.c.clock_id, ids), table.c.status == "running", table.c.card_level < level)
        .values(card_level=level)
        .returning(*(table.c[c.key] for c in CLAIMED))
    )
    return list((await session.execute(stmt)).all())


async def claim_red(session: AsyncSession, *, today: date, limit: int) -> list[Any]:
    """Mark up to ``limit`` running clocks whose due date has passed red, and return them."""
    return await _claim(
        session,
        pending=Q_RED_PENDING,
        date_column=Clock.due_date,
        today=today - timedelta(days=1),
        level=2,
        limit=limit,
    )


async def claim_yellow(session: AsyncSession, *, today: date, limit: int) -> list[Any]:
    """Mark up to ``limit`` running clocks that reached their yellow date yellow, and return them."""
    return await _claim(
        session, pending=Q_YELLOW_PENDING, date_column=Clock.yellow_on, today=today, level=1, limit=limit
    )


def card_id(clock_id: str, color: str) -> str:
    """The one card a clock can have in a color."""
    return f"{clock_id}/{color}"


async def insert_cards(session: AsyncSession, *, clock_ids: list[str], color: str, raised_at: datetime) -> None:
    """Write the cards of claimed clocks in one INSERT ... SELECT (no row travels through Python)."""
    if not clock_ids:
        return
    source = select(
        (Clock.clock_id + literal(f"/{color}")).label("card_id"),
        Clock.clock_id,
        literal(color).label("color"),
        Clock.kind,
        Clock.ref,
        Clock.department,
        Clock.application_no,
        Clock.project_no,
        Clock.stage,
        Clock.task_id,
        Clock.due_date,
        Clock.hall,
        literal(raised_at, UtcDateTime()).label("raised_at"),
    ).where(among(session, Clock.clock_id, clock_ids))
    columns = [
        "card_id",
        "clock_id",
        "color",
        "clock_kind",
        "ref",
        "department",
        "application_no",
        "project_no",
        "stage",
        "task_id",
        "due_date",
        "hall",
        "raised_at",
    ]
    await session.execute(insert(CARDS).from_select(columns, source))


async def list_cards(
    session: AsyncSession,
    *,
    color: str | None,
    department: str | None,
    kind: str | None,
    open_only: bool,
    after: tuple[datetime, str] | None,
    limit: int,
    hall: str | None = None,
) -> list[tuple[Card, Clock]]:
    """Cards newest first, each with its clock."""
    query = select(Card, Clock).join(Clock, Clock.clock_id == Card.clock_id)
    if hall:
        query = query.where(Card.hall == hall)
    if color:
        query = query.where(Card.color == color)
    if department:
        query = query.where(Card.department == department)
    if kind:
        query = query.where(Card.clock_kind == kind)
    if open_only:
        query = query.where(Clock.status != "closed")
    if after is not None:
        raised, card_id = after
        query = query.where(or_(Card.raised_at < raised, and_(Card.raised_at == raised, Card.card_id < card_id)))
    query = query.order_by(Card.raised_at.desc(), Card.card_id.desc()).limit(limit)
    return [(r[0], r[1]) for r in (await session.execute(query)).all()]


async def add_record(session: AsyncSession, record: SupervisionRecord) -> None:
    """Keep a supervision record."""
    session.add(record)
    await session.flush()


async def list_records(
    session: AsyncSession, *, kind: str | None, after: tuple[datetime, int] | None, limit: int
) -> list[SupervisionRecord]:
    """Supervision records newest first."""
    query = select(SupervisionRecord)
    if kind:
        query = query.where(SupervisionRecord.kind == kind)
    if after is not None:
        at, rid = after
        query = query.where(
            or_(SupervisionRecord.at < at, and_(SupervisionRecord.at == at, SupervisionRecord.id < rid))
        )
    query = query.order_by(SupervisionRecord.at.desc(), SupervisionRecord.id.desc()).limit(limit)
    return list((await session.execute(query)).scalars())


async def card_counts(
    session: AsyncSession, *, by: str = "department", hall: str | None = None
) -> dict[tuple[str | None, str], int]:
    """Cards per (department or hall, color), of one hall or all."""
    group = Card.hall if by == "hall" else Card.department
    query = select(group, Card.color, func.count()).group_by(group, Card.color)
    if hall is not None:
        query = query.where(Card.hall == hall)
    return {(r[0], r[1]): int(r[2]) for r in (await session.execute(query)).all()}


async def clock_figures(
    session: AsyncSession, *, today: date, by: str = "department", hall: str | None = None
) -> dict[tuple[str | None, str], dict[str, int]]:
    """Per (department or hall, clock kind): open, closed, closed on time, open and overdue."""
    group = Clock.hall if by == "hall" else Clock.department
    query = select(
        group,
        Clock.kind,
        func.sum(case((Clock.status != "closed", 1), else_=0)),
        func.sum(case((Clock.status == "closed", 1), else_=0)),
        func.sum(case((and_(Clock.status == "closed", Clock.on_time.is_(True)), 1), else_=0)),
        func.sum(case((and_(Clock.status != "closed", Clock.due_date < today), 1), else_=0)),
    ).group_by(group, Clock.kind)
    if hall is not None:
        query = query.where(Clock.hall == hall)
    out: dict[tuple[str | None, str], dict[str, int]] = {}
    for r in (await session.execute(query)).all():
        out[(r[0], r[1])] = {
            "open": int(r[2] or 0),
            "closed": int(r[3] or 0),
            "on_time": int(r[4] or 0),
            "overdue_open": int(r[5] or 0),
        }
    return out


async def applicant_delays(
    session: AsyncSession, *, by: str = "department", hall: str | None = None
) -> dict[str | None, int]:
    """Per lead department (or hall): deferred materials past their deadline, still missing (the applicant's)."""
    lead = func.coalesce(Application.lead_department, Application.department)
    department = Application.hall if by == "hall" else lead
    query = (
        select(department, func.count())
        .select_from(DeferredMaterial)
        .join(Application, Application.application_no == DeferredMaterial.application_no)
        .where(DeferredMaterial.overdue_at.is_not(None), DeferredMaterial.supplied_at.is_(None))
        .group_by(department)
    )
    if hall is not None:
        query = query.where(Application.hall == hall)
    return {r[0]: int(r[1]) for r in (await session.execute(query)).all()}
