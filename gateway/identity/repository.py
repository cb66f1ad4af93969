"""Every query of accounts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, Row, and_, case, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.identity.models import Account, ActivationCode, EnterpriseAgent, LoginThrottle
from owkernel.db import conflict_insert


async def by_login(session: AsyncSession, login: str) -> Account | None:
    """The account whose login (identity number or username) is ``login``."""
    return (await session.execute(select(Account).where(Account.login == login))).scalar_one_or_none()


async def by_id(session: AsyncSession, subject_id: str) -> Account | None:
    """An account by subject id."""
    return await session.get(Account, subject_id)


async def by_login_locked(session: AsyncSession, login: str) -> Account | None:
    """The account of ``login``, its row locked until the transaction ends (PostgreSQL)."""
    query = select(Account).where(Account.login == login).with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def by_id_locked(session: AsyncSession, subject_id: str) -> Account | None:
    """An account by subject id, its row locked until the transaction ends, read afresh."""
    query = select(Account).where(Account.id == subject_id).with_for_update().execution_options(populate_existing=True)
    return (await session.execute(query)).scalar_one_or_none()


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


# --- activation codes ------------------------------------------------------------------------


async def replace_activation_code(session: AsyncSession, code: ActivationCode) -> None:
    """Store the account's activation code in place of any older one."""
    await session.execute(delete(ActivationCode).where(ActivationCode.account_id == code.account_id))
    session.add(code)
    await session.flush()


async def count_activation_try(session: AsyncSession, *, account_id: str, limit: int, now: datetime) -> int | None:
    """Count one try against the account's valid code; the new count (None: no code to try).

    One conditional UPDATE, so parallel tries cannot compare more than ``limit`` codes.
    """
    statement = (
        update(ActivationCode)
        .where(
            ActivationCode.account_id == account_id,
            ActivationCode.attempts < limit,
            ActivationCode.expires_at > now,
        )
        .values(attempts=ActivationCode.attempts + 1)
        .returning(ActivationCode.attempts)
        .execution_options(synchronize_session=False)
    )
    row = (await session.execute(statement)).first()
    return int(row[0]) if row is not None else None


async def spend_activation_code(session: AsyncSession, *, account_id: str, code_hash: str) -> bool:
    """Delete the account's code if it is ``code_hash``; True when this call spent it."""
    statement = (
        delete(ActivationCode)
        .where(ActivationCode.account_id == account_id, ActivationCode.code_hash == code_hash)
        .returning(ActivationCode.account_id)
        .execution_options(synchronize_session=False)
    )
    return (await session.execute(statement)).first() is not None


async def delete_activation_code(session: AsyncSession, account_id: str) -> None:
    """Void the account's activation code."""
    await session.execute(delete(ActivationCode).where(ActivationCode.account_id == account_id))


# --- enterprise agents -------------------------------------------------------------------------


async def is_agent(session: AsyncSession, *, enterprise_id: str, agent_id: str, lock: bool = False) -> bool:
    """True when ``agent_id`` is a current agent of ``enterprise_id`` (``lock``: until the end)."""
    query = select(EnterpriseAgent.agent_id).where(
        EnterpriseAgent.enterprise_id == enterprise_id, EnterpriseAgent.agent_id == agent_id
    )
    if lock:
        query = query.with_for_update()
    return (await session.execute(query)).first() is not None


async def add_agent(session: AsyncSession, *, enterprise_id: str, agent_id: str, now: datetime) -> bool:
    """Name an agent; False when it already was one."""
    row = {"enterprise_id": enterprise_id, "agent_id": agent_id, "created_at": now}
    statement = (
        conflict_insert(session, EnterpriseAgent)
        .values(row)
        .on_conflict_do_nothing()
        .returning(EnterpriseAgent.agent_id)
    )
    return (await session.execute(statement)).first() is not None


async def remove_agent(session: AsyncSession, *, enterprise_id: str, agent_id: str) -> bool:
    """Revoke an agent; False when it was none."""
    statement = (
        delete(EnterpriseAgent)
        .where(EnterpriseAgent.enterprise_id == enterprise_id, EnterpriseAgent.agent_id == agent_id)
        .returning(EnterpriseAgent.agent_id)
        .execution_options(synchronize_session=False)
    )
    return (await session.execute(statement)).first() is not None


async def agents_page(
    session: AsyncSession, *, enterprise_id: str, after: str | None, limit: int
) -> Sequence[Row[Account, datetime]]:
    """The enterprise's agents with when each was named, by identity number, after ``after``."""
    query = (
        select(Account, EnterpriseAgent.created_at)
        .join(EnterpriseAgent, EnterpriseAgent.agent_id == Account.id)
        .where(EnterpriseAgent.enterprise_id == enterprise_id)
        .order_by(Account.login)
        .limit(limit)
    )
    if after is not None:
        query = query.where(Account.login > after)
    return (await session.execute(query)).all()


async def enterprises_of(session: AsyncSession, agent_id: str) -> Sequence[Account]:
    """The verified enterprises ``agent_id`` may act for, by credit code."""
    query = (
        select(Account)
        .join(EnterpriseAgent, EnterpriseAgent.enterprise_id == Account.id)
        .where(EnterpriseAgent.agent_id == agent_id, Account.assurance == "verified")
        .order_by(Account.login)
    )
    return (await session.execute(query)).scalars().all()


async def delete_agents_of(session: AsyncSession, enterprise_id: str) -> None:
    """Forget every agent an enterprise named (its account was taken over)."""
    await session.execute(delete(EnterpriseAgent).where(EnterpriseAgent.enterprise_id == enterprise_id))


# --- login throttles -------------------------------------------------------------------------
# Every change is one conditional UPDATE, so replicas racing on the same row cannot both pass a
# limit (PostgreSQL re-checks the WHERE against the row another transaction just committed;
# SQLite runs one writer at a time).


def _throttle(account_id: str, address: str) -> ColumnElement[bool]:
    return and_(LoginThrottle.account_id == account_id, LoginThrottle.address == address)


def _unlocked(now: datetime) -> ColumnElement[bool]:
    return or_(LoginThrottle.locked_until.is_(None), LoginThrottle.locked_until <= now)


async def ensure_throttles(session: AsyncSession, *, account_id: str, addresses: list[str], now: datetime) -> None:
    """The throttle rows of ``account_id`` for ``addresses``, made when missing."""
    rows = [{"account_id": account_id, "address": a, "attempts": 0, "locks": 0, "updated_at": now} for a in addresses]
    await session.execute(conflict_insert(session, LoginThrottle).values(rows).on_conflict_do_nothing())


async def throttle_state(
    session: AsyncSession, *, account_id: str, address: str
) -> Row[int, int, datetime | None, datetime | None]:
    """attempts, locks, locked_until and succeeded_at of one throttle row (which must exist)."""
    query = select(
        LoginThrottle.attempts, LoginThrottle.locks, LoginThrottle.locked_until, LoginThrottle.succeeded_at
    ).where(_throttle(account_id, address))
    return (await session.execute(query)).one()


async def claim_attempt(session: AsyncSession, *, account_id: str, address: str, limit: int, now: datetime) -> bool:
    """Count one more attempt, unless the row is locked or ``limit`` attempts are already counted."""
    statement = (
        update(LoginThrottle)
        .where(_throttle(account_id, address), LoginThrottle.attempts < limit, _unlocked(now))
        .values(attempts=LoginThrottle.attempts + 1, updated_at=now)
        .returning(LoginThrottle.attempts)
        .execution_options(synchronize_session=False)
    )
    return (await session.execute(statement)).first() is not None


async def release_attempt(session: AsyncSession, *, account_id: str, address: str, now: datetime) -> None:
    """Take back one counted attempt (it succeeded, or it was refused before being checked)."""
    attempts = case((LoginThrottle.attempts > 0, LoginThrottle.attempts - 1), else_=0)
    statement = (
        update(LoginThrottle)
        .where(_throttle(account_id, address))
        .values(attempts=attempts, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    await session.execute(statement)


async def lock(
    session: AsyncSession, *, account_id: str, address: str, limit: int, until: datetime, locks: int, now: datetime
) -> bool:
    """Lock the row until ``until`` if ``limit`` attempts are counted and no lock holds; True if done."""
    statement = (
        update(LoginThrottle)
        .where(_throttle(account_id, address), LoginThrottle.attempts >= limit, _unlocked(now))
        .values(attempts=0, locks=locks, locked_until=until, updated_at=now)
        .returning(LoginThrottle.locks)
        .execution_options(synchronize_session=False)
    )
    return (await session.execute(statement)).first() is not None


async def login_succeeded(session: AsyncSession, *, account_id: str, address: str, now: datetime) -> None:
    """The owner logged in from ``address``: its count and lock history start again, and it is known."""
    statement = (
        update(LoginThrottle)
        .where(_throttle(account_id, address))
        .values(attempts=0, locks=0, succeeded_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    await session.execute(statement)


async def clear_throttles(session: AsyncSession, account_id: str) -> None:
    """Forget every count and lock of an account (its password was reset)."""
    await session.execute(delete(LoginThrottle).where(LoginThrottle.account_id == account_id))


async def prune_throttles(session: AsyncSession, *, idle_before: datetime, known_before: datetime) -> int:
    """Delete throttle rows untouched since ``idle_before`` (known addresses: since ``known_before``)."""
    statement = delete(LoginThrottle).where(
        LoginThrottle.updated_at < idle_before,
        or_(LoginThrottle.locked_until.is_(None), LoginThrottle.locked_until < idle_before),
        or_(LoginThrottle.succeeded_at.is_(None), LoginThrottle.succeeded_at < known_before),
    )
    result = await session.execute(statement)
    return int(getattr(result, "rowcount", 0) or 0)
