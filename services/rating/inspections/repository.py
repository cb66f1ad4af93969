"""Every query on inspection findings."""

from __future__ import annotations

from datetime import date

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.rating.inspections.models import Inspection


def add(session: AsyncSession, inspection: Inspection) -> None:
    """Stage a finding."""
    session.add(inspection)


async def get(session: AsyncSession, inspection_id: str) -> Inspection | None:
    """One finding."""
    return await session.get(Inspection, inspection_id)


async def page(
    session: AsyncSession,
    *,
    limit: int,
    after: tuple[date, str] | None,
    department: str | None = None,
    window: str | None = None,
    start: date | None = None,
    end: date | None = None,
    hall: str | None = None,
) -> list[Inspection]:
    """Newest first, keyset-paginated on (inspected_on, inspection_id)."""
    query = select(Inspection)
    if hall is not None:
        query = query.where(Inspection.hall == hall)
    if department is not None:
        query = query.where(Inspection.department == department)
    if window is not None:
        query = query.where(Inspection.window == window)
    if start is not None:
        query = query.where(Inspection.inspected_on >= start)
    if end is not None:
        query = query.where(Inspection.inspected_on <= end)
    if after is not None:
        on, iid = after
        query = query.where(
            or_(Inspection.inspected_on < on, and_(Inspection.inspected_on == on, Inspection.inspection_id < iid))
        )
    query = query.order_by(Inspection.inspected_on.desc(), Inspection.inspection_id.desc()).limit(limit)
    return list((await session.execute(query)).scalars())
