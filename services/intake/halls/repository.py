"""Every query on halls."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.halls.models import Hall


async def get(session: AsyncSession, code: str) -> Hall | None:
    """One hall by its code."""
    return await session.get(Hall, code)


async def known(session: AsyncSession, codes: Iterable[str]) -> set[str]:
    """Which of ``codes`` are registered halls."""
    wanted = sorted(set(codes))
    if not wanted:
        return set()
    rows = await session.execute(select(Hall.code).where(Hall.code.in_(wanted)))
    return set(rows.scalars())


async def page(session: AsyncSession, *, after: str | None, limit: int) -> list[Hall]:
    """Halls by code (the city's "CITY" among them), keyset-paginated."""
    query = select(Hall)
    if after is not None:
        query = query.where(Hall.code > after)
    return list((await session.execute(query.order_by(Hall.code).limit(limit))).scalars())


def add(session: AsyncSession, hall: Hall) -> None:
    """Stage a new hall."""
    session.add(hall)
