"""Every query on rating's copy of applications."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.rating.attribution.models import Application


async def get(session: AsyncSession, application_no: str) -> Application | None:
    """One application, or None when its acceptance has not arrived."""
    return await session.get(Application, application_no)


async def get_for_update(session: AsyncSession, application_no: str) -> Application | None:
    """One application, row-locked (PostgreSQL) for the rest of the transaction."""
    result = await session.execute(
        select(Application).where(Application.application_no == application_no).with_for_update()
    )
    return result.scalar_one_or_none()


def add(session: AsyncSession, application: Application) -> None:
    """Stage a new application row."""
    session.add(application)
