"""Queries of partner availability and of the simulated couriers' work queue."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Row, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.delivery.partners.models import PartnerAvailability, SimCourierJob

# Where a transaction keeps what it read of the availability (see ``unavailable_carriers``).
_UNAVAILABLE = "delivery.unavailable_carriers"


async def unavailable_carriers(session: AsyncSession) -> set[str]:
    """Carriers an admin marked as not taking new waybills (read once per transaction).

    A consumer batch that books many shipments asks once: the answer is kept on the session
    for the rest of its transaction (a session is one unit of work here), and forgotten when
    an availability row is written (``forget_unavailable``).
    """
    transaction = session.sync_session.get_transaction()
    kept = session.info.get(_UNAVAILABLE)
    if kept is not None and transaction is not None and kept[0] is transaction:
        return set(kept[1])
    rows = await session.execute(select(PartnerAvailability.carrier).where(PartnerAvailability.available.is_(False)))
    found = frozenset(rows.scalars())
    session.info[_UNAVAILABLE] = (session.sync_session.get_transaction(), found)
    return set(found)


def forget_unavailable(session: AsyncSession) -> None:
    """Drop what this transaction read of the availability (after it changed a row)."""
    session.info.pop(_UNAVAILABLE, None)


async def availability(session: AsyncSession) -> dict[str, PartnerAvailability]:
    """Every availability row, by carrier."""
    rows = (await session.execute(select(PartnerAvailability))).scalars()
    return {row.carrier: row for row in rows}


async def get_availability(session: AsyncSession, carrier: str) -> PartnerAvailability | None:
    """One carrier's availability row."""
    return await session.get(PartnerAvailability, carrier)


async def sim_job(session: AsyncSession, *, carrier: str, tracking_no: str) -> SimCourierJob | None:
    """A simulated courier's parcel by its tracking number."""
    return (
        await session.execute(
            select(SimCourierJob).where(SimCourierJob.carrier == carrier, SimCourierJob.tracking_no == tracking_no)
        )
    ).scalar_one_or_none()


async def sim_job_by_id(session: AsyncSession, job_id: int) -> SimCourierJob:
    """A simulated courier's parcel by its id."""
    return (await session.execute(select(SimCourierJob).where(SimCourierJob.id == job_id))).scalar_one()


async def claim_due_sim_jobs(
    session: AsyncSession, *, now: datetime, hold_until: datetime, limit: int
) -> list[Row[int, str, str, str, int]]:
    """Hold the jobs due by ``now`` (oldest first, at most ``limit``) until ``hold_until``.

    One ``UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED) RETURNING``: the pick and
    the hold in one statement. Another worker skips the rows locked here, and once this
    transaction commits it no longer finds them due. Rows come back by id.
    """
    due = (
        select(SimCourierJob.id)
        .where(SimCourierJob.done.is_(False), SimCourierJob.due_at <= now)
        .order_by(SimCourierJob.due_at, SimCourierJob.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = await session.execute(
        update(SimCourierJob)
        .where(SimCourierJob.id.in_(due))
        .values(due_at=hold_until)
        .returning(
            SimCourierJob.id,
            SimCourierJob.carrier,
            SimCourierJob.tracking_no,
            SimCourierJob.plan,
            SimCourierJob.next_index,
        )
        .execution_options(synchronize_session=False)
    )
    return sorted(rows.all(), key=lambda row: row.id)


async def finish_sim_jobs(session: AsyncSession, job_ids: Sequence[int]) -> None:
    """Mark jobs done (their plan has nothing left to report)."""
    if job_ids:
        await session.execute(
            update(SimCourierJob)
            .where(SimCourierJob.id.in_(list(job_ids)))
            .values(done=True)
            .execution_options(synchronize_session=False)
        )


async def advance_sim_job(session: AsyncSession, *, job_id: int, next_index: int, done: bool, due_at: datetime) -> None:
    """A report was delivered: the next one is due at ``due_at`` (none when ``done``)."""
    await session.execute(
        update(SimCourierJob)
        .where(SimCourierJob.id == job_id)
        .values(next_index=next_index, attempts=0, last_error=None, done=done, due_at=due_at)
        .execution_options(synchronize_session=False)
    )
