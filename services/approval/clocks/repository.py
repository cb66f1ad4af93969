"""Every query of the supervision engine's clocks, ledger and suspensions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, insert, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from services.approval.clocks.models import Q_OPEN_PROVISIONAL, Clock, ClockEntry, ClockFacts, DataFix, Suspension

# Read by every decision: built once (building a statement and its cache key costs more CPU
# than running it); the statuses are an expanding parameter.
_OF_APPLICATION = (
    select(Clock)
    .where(
        Clock.application_no == bindparam("application_no"),
        Clock.kind.in_(("task", "stage", "application")),
        Clock.status.in_(bindparam("statuses", expanding=True)),
    )
    .order_by(Clock.clock_id)
)


_CLOCKS = cast(Table, Clock.__table__)
# The same read as rows of the table, for a decision: it only reads them and stops them by
# statement, so loading objects (most of the read's CPU) buys nothing.
_OF_APPLICATION_ROWS = (
    select(_CLOCKS)
    .where(
        _CLOCKS.c.application_no == bindparam("application_no"),
        _CLOCKS.c.kind.in_(("task", "stage", "application")),
        _CLOCKS.c.status.in_(bindparam("statuses", expanding=True)),
    )
    .order_by(_CLOCKS.c.clock_id)
)


async def get(session: AsyncSession, clock_id: str) -> Clock | None:
    """One clock."""
    return await session.get(Clock, clock_id)


async def by_ref(session: AsyncSession, kind: str, ref: str) -> Clock | None:
    """The clock of a kind that runs for ``ref``."""
    return (await session.execute(select(Clock).where(Clock.kind == kind, Clock.ref == ref))).scalar_one_or_none()


_WRITE_CLOCK = update(_CLOCKS).where(_CLOCKS.c.clock_id == bindparam("b_clock_id"))


async def write_closings(session: AsyncSession, changes: Sequence[tuple[ClockFacts, dict[str, Any]]]) -> None:
    """Write clocks' stops (the same columns for each) in one statement, without the unit of
    work: a loaded object takes the values as its row's, so no flush writes them again (a row
    read by ``of_application_rows`` is no object of the session: nothing to keep in step)."""
    if not changes:
        return
    await session.execute(_WRITE_CLOCK, [{"b_clock_id": clock.clock_id, **values} for clock, values in changes])
    for clock, values in changes:
        if isinstance(clock, Clock):
            for name, value in values.items():
                set_committed_value(clock, name, value)


async def add_new(session: AsyncSession, clocks: Sequence[Clock]) -> None:
    """Insert clocks made by ``service.new_clock``, in one statement, without the unit of work.

    The objects stay out of the session (a later read loads the rows); they carry every column
    (their attributes are named as the columns), so the rows are what a flush would write.
    """
    rows = [{column.name: getattr(clock, column.name) for column in _CLOCKS.columns} for clock in clocks]
    if rows:
        await session.execute(insert(_CLOCKS), rows)


async def of_application(session: AsyncSession, application_no: str, *, statuses: Sequence[str]) -> list[Clock]:
    """The application's task, stage and application clocks in the given statuses."""
    params = {"application_no": application_no, "statuses": list(statuses)}
    return list((await session.execute(_OF_APPLICATION, params)).scalars())


async def of_application_rows(
    session: AsyncSession, application_no: str, *, statuses: Sequence[str]
) -> list[ClockFacts]:
    """``of_application`` as rows of the table, no objects loaded (for a decision, which only
    reads them and stops them by statement)."""
    params = {"application_no": application_no, "statuses": list(statuses)}
    rows: list[Any] = list((await session.execute(_OF_APPLICATION_ROWS, params)).all())
    return rows


async def ledger(session: AsyncSession, clock_id: str) -> list[ClockEntry]:
    """A clock's ledger, oldest first."""
    query = select(ClockEntry).where(ClockEntry.clock_id == clock_id).order_by(ClockEntry.id)
    return list((await session.execute(query)).scalars())


async def suspension_entries(session: AsyncSession, clock_ids: Sequence[str]) -> list[ClockEntry]:
    """The suspension lines of several clocks."""
    if not clock_ids:
        return []
    query = select(ClockEntry).where(ClockEntry.clock_id.in_(clock_ids), ClockEntry.kind == "suspension")
    return list((await session.execute(query)).scalars())


async def active_suspensions(session: AsyncSession, application_no: str) -> list[Suspension]:
    """The application's waits that have not ended."""
    query = select(Suspension).where(Suspension.application_no == application_no, Suspension.ended_at.is_(None))
    return list((await session.execute(query.order_by(Suspension.id))).scalars())


async def suspension_by_key(session: AsyncSession, application_no: str, key: str) -> list[Suspension]:
    """Every wait of the application under ``key``, newest first."""
    query = select(Suspension).where(Suspension.application_no == application_no, Suspension.key == key)
    return list((await session.execute(query.order_by(Suspension.id.desc()))).scalars())


async def suspensions_of_run(
    session: AsyncSession, application_no: str, union_started_at: datetime
) -> list[Suspension]:
    """The waits of one run of overlapping waits."""
    query = select(Suspension).where(
        Suspension.application_no == application_no, Suspension.union_started_at == union_started_at
    )
    return list((await session.execute(query.order_by(Suspension.id))).scalars())


async def affected_by_year(session: AsyncSession, year: int, *, after: str, limit: int) -> list[Clock]:
    """Open clocks whose dates a change of ``year`` may move (provisional ones, or spanning it)."""
    first, last = date(year, 1, 1), date(year, 12, 31)
    query = (
        select(Clock)
        .where(
            Clock.clock_id > after,
            Clock.status != "closed",
            or_(text(Q_OPEN_PROVISIONAL), and_(Clock.started_on <= last, Clock.due_date >= first)),
        )
        .order_by(Clock.clock_id)
        .limit(limit)
    )
    return list((await session.execute(query)).scalars())


async def listing(
    session: AsyncSession,
    *,
    kind: str | None,
    department: str | None,
    application_no: str | None,
    status: str | None,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[Clock]:
    """Clocks by opening time, newest first, filtered."""
    query = select(Clock)
    if kind:
        query = query.where(Clock.kind == kind)
    if department:
        query = query.where(Clock.department == department)
    if application_no:
        query = query.where(Clock.application_no == application_no)
    if status:
        query = query.where(Clock.status == status)
    if after is not None:
        opened, clock_id = after
        query = query.where(or_(Clock.opened_at < opened, and_(Clock.opened_at == opened, Clock.clock_id < clock_id)))
    query = query.order_by(Clock.opened_at.desc(), Clock.clock_id.desc()).limit(limit)
    return list((await session.execute(query)).scalars())


async def claim_data_fix(session: AsyncSession, fix: DataFix) -> bool:
    """Record a one-time fix as applied; False if it was already (a second replica waits on the
    first one's row and then finds it)."""
    if await session.get(DataFix, fix.name) is not None:
        return False
    session.add(fix)
    await session.flush()
    return True


async def applications_with_deferred_waits(session: AsyncSession) -> list[str]:
    """Applications with an open clock that a deferred material's wait (the old 容缺 rule) touched."""
    open_clock = (
        select(Clock.clock_id)
        .where(
            Clock.application_no == Suspension.application_no,
            Clock.kind.in_(("task", "stage", "application")),
            Clock.status != "closed",
        )
        .exists()
    )
    query = (
        select(Suspension.application_no)
        .where(Suspension.reason == "deferred_material", open_clock)
        .distinct()
        .order_by(Suspension.application_no)
    )
    return list((await session.execute(query)).scalars())


async def waits_of(session: AsyncSession, application_no: str) -> list[Suspension]:
    """Every wait of the application, oldest first."""
    query = select(Suspension).where(Suspension.application_no == application_no)
    return list((await session.execute(query.order_by(Suspension.started_at, Suspension.id))).scalars())
