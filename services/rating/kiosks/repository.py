"""Every query on kiosks."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select, update
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


async def claim_vote_slot(session: AsyncSession, kiosk_id: str, *, now: datetime, not_after: datetime) -> bool:
    """Atomically take the kiosk's next vote slot: only if its last vote is older than ``not_after``.

    One conditional UPDATE, so two simultaneous presses of one device cannot both pass.
    """
    result = await session.execute(
        update(Kiosk)
        .where(
            Kiosk.kiosk_id == kiosk_id,
            Kiosk.revoked_at.is_(None),
            or_(Kiosk.last_vote_at.is_(None), Kiosk.last_vote_at <= not_after),
        )
        .values(last_vote_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


async def page(session: AsyncSession, *, limit: int, after: str | None) -> list[Kiosk]:
    """Kiosks by id."""
    query = select(Kiosk)
    if after is not None:
        query = query.where(Kiosk.kiosk_id > after)
    return list((await session.execute(query.order_by(Kiosk.kiosk_id).limit(limit))).scalars())
