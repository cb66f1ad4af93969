"""Every query of signing keys, logins, refresh tokens and revocations."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.tokens.models import LoginSession, RefreshToken, Revocation, SigningKey


async def current_signing_key(session: AsyncSession) -> SigningKey | None:
    """The newest key that is not retired."""
    return (
        await session.execute(
            select(SigningKey)
            .where(SigningKey.retired_at.is_(None))
            .order_by(SigningKey.created_at.desc())
            .limit(1)
            .with_for_update()
        )
    ).scalar_one_or_none()


async def published_signing_keys(session: AsyncSession, *, retired_after: datetime) -> Sequence[SigningKey]:
    """Active keys (newest first) and keys retired after ``retired_after``."""
    return (
        (
            await session.execute(
                select(SigningKey)
                .where(or_(SigningKey.retired_at.is_(None), SigningKey.retired_at > retired_after))
                .order_by(SigningKey.created_at.desc())
            )
        )
        .scalars()
        .all()
    )


async def add_login_session(
    session: AsyncSession, *, sid: str, account_id: str, now: datetime, actor_id: str | None = None
) -> LoginSession:
    """Start a login (an act-as login names the agent in ``actor_id``)."""
    row = LoginSession(
        id=sid, account_id=account_id, actor_id=actor_id, created_at=now, revoked_at=None, revoked_reason=None
    )
    session.add(row)
    await session.flush()
    return row


async def get_login_session(session: AsyncSession, sid: str) -> LoginSession | None:
    """A login by id."""
    return await session.get(LoginSession, sid)


async def add_refresh_token(
    session: AsyncSession, *, token_hash: str, sid: str, now: datetime, expires_at: datetime
) -> None:
    """Store a new refresh token's hash."""
    session.add(RefreshToken(token_hash=token_hash, session_id=sid, issued_at=now, expires_at=expires_at))
    await session.flush()


async def get_refresh_token(session: AsyncSession, token_hash: str) -> RefreshToken | None:
    """A refresh token by its hash."""
    return await session.get(RefreshToken, token_hash)


async def spend_refresh_token(session: AsyncSession, *, token_hash: str, now: datetime) -> bool:
    """Mark a refresh token used; False when it was already used (a concurrent or replayed use)."""
    result = await session.execute(
        update(RefreshToken)
        .where(RefreshToken.token_hash == token_hash, RefreshToken.used_at.is_(None))
        .values(used_at=now)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


async def revoke_login_session(session: AsyncSession, *, sid: str, now: datetime, reason: str) -> None:
    """End a login (its refresh tokens stop working)."""
    await session.execute(
        update(LoginSession)
        .where(LoginSession.id == sid, LoginSession.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason)
    )


async def live_sessions_of(session: AsyncSession, account_id: str) -> Sequence[str]:
    """Ids of the logins not yet ended of an account, as itself or as an agent acting for another."""
    query = select(LoginSession.id).where(
        LoginSession.revoked_at.is_(None),
        or_(LoginSession.account_id == account_id, LoginSession.actor_id == account_id),
    )
    return (await session.execute(query)).scalars().all()


async def live_act_as_sessions(session: AsyncSession, *, account_id: str, actor_id: str) -> Sequence[str]:
    """Ids of the logins not yet ended of ``actor_id`` acting for ``account_id``."""
    query = select(LoginSession.id).where(
        LoginSession.revoked_at.is_(None), LoginSession.account_id == account_id, LoginSession.actor_id == actor_id
    )
    return (await session.execute(query)).scalars().all()


async def last_refresh_expiry(session: AsyncSession, sid: str) -> datetime | None:
    """When the newest refresh token of a login expires (None: it has none)."""
    query = select(func.max(RefreshToken.expires_at)).where(RefreshToken.session_id == sid)
    value = (await session.execute(query)).scalar_one_or_none()
    return value if isinstance(value, datetime) else None


async def add_revocation(session: AsyncSession, *, key: str, now: datetime, expires_at: datetime) -> None:
    """Deny a token or login until ``expires_at`` (idempotent)."""
    existing = await session.get(Revocation, key)
    if existing is None:
        session.add(Revocation(key=key, created_at=now, expires_at=expires_at))
    elif existing.expires_at < expires_at:
        existing.expires_at = expires_at
    await session.flush()


async def revocations_since(session: AsyncSession, *, since: datetime, now: datetime) -> Sequence[Revocation]:
    """Revocations created at or after ``since`` that still matter."""
    return (
        (await session.execute(select(Revocation).where(Revocation.created_at >= since, Revocation.expires_at > now)))
        .scalars()
        .all()
    )


async def delete_expired_revocations(session: AsyncSession, *, now: datetime) -> None:
    """Forget revocations of tokens that have expired anyway."""
    await session.execute(delete(Revocation).where(Revocation.expires_at <= now))
