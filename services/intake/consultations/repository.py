"""Every consultation query."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.consultations.models import Consultation


async def get(session: AsyncSession, consultation_id: str, *, for_update: bool = False) -> Consultation | None:
    """One consultation."""
    stmt = select(Consultation).where(Consultation.consultation_id == consultation_id)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def page(
    session: AsyncSession,
    *,
    asker: str | None,
    department: str | None,
    status: str | None,
    item_code: str | None,
    before_id: int | None,
    limit: int,
) -> list[Consultation]:
    """Newest first, below the cursor."""
    stmt: Select[Consultation] = select(Consultation).order_by(Consultation.id.desc()).limit(limit)
    if asker is not None:
        stmt = stmt.where(Consultation.asker_subject_id == asker)
    if department is not None:
        stmt = stmt.where(Consultation.department == department)
    if status is not None:
        stmt = stmt.where(Consultation.status == status)
    if item_code is not None:
        stmt = stmt.where(Consultation.item_code == item_code)
    if before_id is not None:
        stmt = stmt.where(Consultation.id < before_id)
    return list((await session.execute(stmt)).scalars())
