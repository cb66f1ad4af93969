"""Every query on kiosks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.rating.kiosks.models import Kiosk


def add(session: AsyncSession, kiosk: Kiosk) -> None:
    """Stage a new kiosk."""
    session.add(kiosk)


async def get(session: AsyncSession, kiosk_id: str) -> Kiosk | None:
    """One kiosk."""
    return await session.get(Kiosk, kiosk_id)


async def by_key_hash(session: AsyncSession, key_hash: str) -> Kiosk | None:
    """The kiosk holding a device key (by its hash)."""
    result = await session.execute(select(Kiosk).where(Kiosk.key_hash == key_hash))
    return result.scalar_one_or_none()


@dataclass(frozen=True)
class Slot:
    """The kiosk that took a vote slot."""

    kiosk_id: str
    window: str
    department: str | None
    hall: str


async def take_vote_slot(
    session: AsyncSession,
    *,
    key_hash: str,
    window: str,
    now: datetime,
    not_after: datetime | None,
    hour_ago: datetime,
    max_per_hour: int,
) -> Slot | None:
    """Atomically take the next vote slot of the kiosk holding ``key_hash``, if it may vote now.

    One conditional UPDATE ... RETURNING: the key, revocation, window, the interval since the
    last vote and the hourly cap are checked and the counters moved in one statement, so two
    simultaneous presses of one device cannot both pass. None when any check fails.
    """
    new_hour = or_(Kiosk.hour_started_at.is_(None), Kiosk.hour_started_at <= hour_ago)
    conditions = [
        Kiosk.key_hash == key_hash,
        Kiosk.revoked_at.is_(None),
        Kiosk.window == window,
        or_(new_hour, Kiosk.hour_votes < max_per_hour),
    ]
    if not_after is not None:
        conditions.append(or_(Kiosk.last_vote_at.is_(None), Kiosk.last_vote_at <= not_after))
    result = await session.execute(
        update(Kiosk)
        .where(*conditions)
        .values(
            last_vote_at=now,
            hour_started_at=case((new_hour, now), else_=Kiosk.hour_started_at),
            hour_votes=case((new_hour, 1), else_=Kiosk.hour_votes + 1),
        )
        .returning(Kiosk.kiosk_id, Kiosk.window, Kiosk.department, Kiosk.hall)
        .execution_options(synchronize_session=False)
    )
    row = result.first()
    return Slot(kiosk_id=row.kiosk_id, window=row.window, department=row.department, hall=row.hall) if row else None


async def page(session: AsyncSession, *, limit: int, after: str | None) -> list[Kiosk]:
    """Kiosks by id."""
    query = select(Kiosk)
    if after is not None:
        query = query.where(Kiosk.kiosk_id > after)
    return list((await session.execute(query.order_by(Kiosk.kiosk_id).limit(limit))).scalars())
