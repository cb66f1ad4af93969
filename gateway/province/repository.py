"""Every query of the province login."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.province.models import ProvinceLogin, ProvinceLoginCode


async def add_login(session: AsyncSession, login: ProvinceLogin) -> None:
    """Store a login under way."""
    session.add(login)
    await session.flush()


async def spend_login(session: AsyncSession, *, state: str, now: datetime) -> ProvinceLogin | None:
    """Mark the login of ``state`` used if it is unused and fresh; it, when this call spent it.

    One conditional UPDATE: of two callbacks with the same state (a replay), only one wins.
    """
    spent = await session.execute(
        update(ProvinceLogin)
        .where(ProvinceLogin.state == state, ProvinceLogin.used_at.is_(None), ProvinceLogin.expires_at > now)
        .values(used_at=now)
    )
    if getattr(spent, "rowcount", 0) != 1:
        return None
    query = select(ProvinceLogin).where(ProvinceLogin.state == state).execution_options(populate_existing=True)
    return (await session.execute(query)).scalar_one()


async def add_code(session: AsyncSession, code: ProvinceLoginCode) -> None:
    """Store a one-time login code."""
    session.add(code)
    await session.flush()


async def spend_code(session: AsyncSession, *, code_hash: str, now: datetime) -> str | None:
    """Mark the code used if it is unused and fresh; its account id, when this call spent it."""
    spent = await session.execute(
        update(ProvinceLoginCode)
        .where(
            ProvinceLoginCode.code_hash == code_hash,
            ProvinceLoginCode.used_at.is_(None),
            ProvinceLoginCode.expires_at > now,
        )
        .values(used_at=now)
    )
    if getattr(spent, "rowcount", 0) != 1:
        return None
    query = select(ProvinceLoginCode.account_id).where(ProvinceLoginCode.code_hash == code_hash)
    return (await session.execute(query)).scalar_one()


async def delete_expired(session: AsyncSession, *, before: datetime) -> None:
    """Forget logins and codes that expired before ``before`` (used or not)."""
    await session.execute(delete(ProvinceLogin).where(ProvinceLogin.expires_at < before))
    await session.execute(delete(ProvinceLoginCode).where(ProvinceLoginCode.expires_at < before))


async def count_codes(session: AsyncSession) -> int:
    """How many login codes are stored."""
    return int((await session.execute(select(func.count()).select_from(ProvinceLoginCode))).scalar_one())
