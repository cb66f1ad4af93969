"""Every query of window pickups."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from services.delivery.pickups.models import Pickup


async def by_application(session: AsyncSession, application_no: str, *, lock: bool = False) -> Pickup | None:
    """The pickup record of an application."""
    query = select(Pickup).where(Pickup.application_no == application_no)
    if lock:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def page(
    session: AsyncSession,
    *,
    status: str | None,
    applicant_id_number: str | None,
    after: tuple[datetime, str] | None,
    limit: int,
) -> Sequence[Pickup]:
    """Oldest first (the queue at the window), keyset-paginated on (created_at, id)."""
    query = select(Pickup)
    if status is not None:
        query = query.where(Pickup.status == status)
    if applicant_id_number is not None:
        query = query.where(Pickup.applicant_id_number == applicant_id_number)
    if after is not None:
        query = query.where(tuple_(Pickup.created_at, Pickup.id) > tuple_(after[0], after[1]))
    return (await session.execute(query.order_by(Pickup.created_at, Pickup.id).limit(limit))).scalars().all()
