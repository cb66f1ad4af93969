"""Every query on rectification cases."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.rating.rectifications.models import Rectification


def add(session: AsyncSession, rectification: Rectification) -> None:
    """Stage a new case."""
    session.add(rectification)


async def get(session: AsyncSession, rectification_id: str) -> Rectification | None:
    """One case."""
    return await session.get(Rectification, rectification_id)


async def get_for_update(session: AsyncSession, rectification_id: str) -> Rectification | None:
    """One case, row-locked for the rest of the transaction."""
    result = await session.execute(
        select(Rectification).where(Rectification.rectification_id == rectification_id).with_for_update()
    )
    return result.scalar_one_or_none()


async def page(
    session: AsyncSession,
    *,
    limit: int,
    after: tuple[datetime, str] | None,
    status: str | None = None,
    department: str | None = None,
    closed_only: bool = False,
) -> list[Rectification]:
    """Newest first, keyset-paginated on (opened_at, rectification_id)."""
    query = select(Rectification)
    if status is not None:
        query = query.where(Rectification.status == status)
    if closed_only:
        query = query.where(Rectification.status.in_(("rectified", "annulled")))
    if department is not None:
        query = query.where(Rectification.department == department)
    if after is not None:
        at, rid = after
        query = query.where(
            or_(
                Rectification.opened_at < at,
                and_(Rectification.opened_at == at, Rectification.rectification_id < rid),
            )
        )
    query = query.order_by(Rectification.opened_at.desc(), Rectification.rectification_id.desc()).limit(limit)
    return list((await session.execute(query)).scalars())
