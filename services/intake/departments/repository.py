"""Every query on departments."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.departments.models import Department


async def get(session: AsyncSession, code: str) -> Department | None:
    """One department by its code."""
    return await session.get(Department, code)


async def page(session: AsyncSession, *, after: str | None, limit: int) -> list[Department]:
    """Departments by code, keyset-paginated."""
    query = select(Department)
    if after is not None:
        query = query.where(Department.code > after)
    return list((await session.execute(query.order_by(Department.code).limit(limit))).scalars())


def add(session: AsyncSession, department: Department) -> None:
    """Stage a new department."""
    session.add(department)
