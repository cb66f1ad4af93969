"""Every query of accounts."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.identity.models import Account


async def by_login(session: AsyncSession, login: str) -> Account | None:
    """The account whose login (identity number or username) is ``login``."""
    return (await session.execute(select(Account).where(Account.login == login))).scalar_one_or_none()


async def by_id(session: AsyncSession, subject_id: str) -> Account | None:
    """An account by subject id."""
    return await session.get(Account, subject_id)


async def add(session: AsyncSession, account: Account) -> Account:
    """Insert an account."""
    session.add(account)
    await session.flush()
    return account


async def staff_page(session: AsyncSession, *, after: str | None, limit: int) -> Sequence[Account]:
    """Staff accounts ordered by username, after ``after``."""
    query = select(Account).where(Account.kind == "staff").order_by(Account.login).limit(limit)
    if after is not None:
        query = query.where(Account.login > after)
    return (await session.execute(query)).scalars().all()
