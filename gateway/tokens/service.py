"""Access tokens and rotating refresh tokens: issue, rotate (with reuse detection), revoke."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.identity import repository as identity_repository
from gateway.identity.models import Account
from gateway.settings import GatewaySettings
from gateway.tokens import repository
from gateway.tokens.keys import KeyStore
from gateway.tokens.verifier import RevocationList


@dataclass(frozen=True)
class TokenPair:
    """What login and refresh return."""

    access_token: str
    refresh_token: str
    expires_in: int
    refresh_expires_in: int

    def body(self) -> dict[str, Any]:
        """The response body of login and refresh."""
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "token_type": "bearer",
            "expires_in": self.expires_in,
            "refresh_expires_in": self.refresh_expires_in,
        }


@dataclass(frozen=True)
class RefreshOutcome:
    """The result of presenting a refresh token: a new pair, or why not."""

    pair: TokenPair | None = None
    account: Account | None = None
    # "unknown" | "expired" | "ended" | "reused"; "reused" ended the whole login (commit it).
    refused: str | None = None


def hash_secret(token: str) -> str:
    """What is stored of a random one-time secret (a refresh token, a province login code)."""
    return hashlib.sha256(token.encode()).hexdigest()


def access_claims(
    account: Account, *, settings: GatewaySettings, sid: str, now: datetime, actor: Account | None = None
) -> dict[str, Any]:
    """The claims of an access token (owkernel.auth.principal_from_claims reads them).

    Persons and enterprises carry their ``assurance``; staff carry none. With ``actor`` (an agent
    acting for the enterprise ``account``) the token's subject is the enterprise and the RFC 8693
    ``act`` claim names the agent, so what the agent does is recorded with both.
    """
    staff = account.kind == "staff"
    claims: dict[str, Any] = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": account.id,
        "iat": int(now.timestamp()),
        "nbf": int(now.timestamp()),
        "exp": int(now.timestamp()) + settings.access_token_ttl_seconds,
        "jti": uuid.uuid4().hex,
        "sid": sid,
        "kind": account.kind,
        "roles": list(account.roles or []) if staff else [],
        "department": account.department if staff else None,
        "idn": None if staff else account.login,
        "name": account.name,
        "username": account.login if staff else None,
    }
    if not staff:
        claims["assurance"] = account.assurance or "self_declared"
    else:
        # The hall the staff member works at: services scope what a clerk does to it.
        claims["hall"] = account.hall or "CITY"
    if actor is not None:
        claims["act"] = {"sub": actor.id, "idn": actor.login, "name": actor.name}
    return claims


async def _new_pair(
    session: AsyncSession,
    *,
    account: Account,
    sid: str,
    keys: KeyStore,
    settings: GatewaySettings,
    now: datetime,
    actor: Account | None = None,
) -> TokenPair:
    refresh = secrets.token_urlsafe(32)
    await repository.add_refresh_token(
        session,
        token_hash=hash_secret(refresh),
        sid=sid,
        now=now,
        expires_at=now + timedelta(seconds=settings.refresh_token_ttl_seconds),
    )
    access = keys.sign(access_claims(account, settings=settings, sid=sid, now=now, actor=actor))
    return TokenPair(
        access_token=access,
        refresh_token=refresh,
        expires_in=settings.access_token_ttl_seconds,
        refresh_expires_in=settings.refresh_token_ttl_seconds,
    )


async def start_login(
    session: AsyncSession,
    *,
    account: Account,
    keys: KeyStore,
    settings: GatewaySettings,
    actor: Account | None = None,
) -> TokenPair:
    """A new login for ``account`` (with ``actor``: the agent acting for it): its first pair."""
    now = datetime.now(UTC)
    sid = uuid.uuid4().hex
    await repository.add_login_session(
        session, sid=sid, account_id=account.id, now=now, actor_id=actor.id if actor is not None else None
    )
    return await _new_pair(session, account=account, sid=sid, keys=keys, settings=settings, now=now, actor=actor)


async def rotate(
    session: AsyncSession,
    *,
    refresh_token: str,
    keys: KeyStore,
    settings: GatewaySettings,
    revocations: RevocationList,
) -> RefreshOutcome:
    """Spend a refresh token for a new pair; a second use of one ends its whole login."""
    now = datetime.now(UTC)
    token_hash = hash_secret(refresh_token)
    row = await repository.get_refresh_token(session, token_hash)
    if row is None:
        return RefreshOutcome(refused="unknown")
    login = await repository.get_login_session(session, row.session_id)
    if login is None or login.revoked_at is not None:
        return RefreshOutcome(refused="ended")
    if row.used_at is None and row.expires_at <= now:
        return RefreshOutcome(refused="expired")
    if row.used_at is not None or not await repository.spend_refresh_token(session, token_hash=token_hash, now=now):
        await end_login(session, sid=login.id, reason="refresh_token_reuse", settings=settings, revocations=revocations)
        return RefreshOutcome(refused="reused")
    account = await session.get(Account, login.account_id)
    if account is None:
        return RefreshOutcome(refused="ended")
    actor = None
    if login.actor_id is not None:
        # Revoking the agent ends this login too; checked again here so a refresh racing the
        # revocation cannot outlive it.
        actor = await session.get(Account, login.actor_id)
        if actor is None or not await identity_repository.is_agent(
            session, enterprise_id=account.id, agent_id=actor.id
        ):
            return RefreshOutcome(refused="ended")
    pair = await _new_pair(session, account=account, sid=login.id, keys=keys, settings=settings, now=now, actor=actor)
    return RefreshOutcome(pair=pair, account=account)


async def end_login(
    session: AsyncSession, *, sid: str, reason: str, settings: GatewaySettings, revocations: RevocationList
) -> None:
    """End a login: its refresh tokens stop working and so do its access tokens (at the gateway)."""
    now = datetime.now(UTC)
    await repository.revoke_login_session(session, sid=sid, now=now, reason=reason)
    # An access token of this login lives at most its TTL from now (plus verification leeway).
    until = now + timedelta(seconds=settings.access_token_ttl_seconds + 60)
    await repository.add_revocation(session, key=f"sid:{sid}", now=now, expires_at=until)
    revocations.add(f"sid:{sid}", until)


async def _end_logins(
    session: AsyncSession, *, sids: Sequence[str], reason: str, revocations: RevocationList, now: datetime
) -> None:
    for sid in sids:
        await repository.revoke_login_session(session, sid=sid, now=now, reason=reason)
        # No access token of the login outlives its newest refresh token (a refresh token lives
        # longer than the access token issued beside it), so the denial is kept until then.
        last = await repository.last_refresh_expiry(session, sid)
        until = max(last or now, now) + timedelta(seconds=60)
        await repository.add_revocation(session, key=f"sid:{sid}", now=now, expires_at=until)
        revocations.add(f"sid:{sid}", until)


async def end_account_logins(
    session: AsyncSession, *, account_id: str, reason: str, revocations: RevocationList
) -> int:
    """End every login of an account, its own and its acting for others; how many ended."""
    sids = await repository.live_sessions_of(session, account_id)
    await _end_logins(session, sids=sids, reason=reason, revocations=revocations, now=datetime.now(UTC))
    return len(sids)


async def end_act_as_logins(
    session: AsyncSession, *, enterprise_id: str, agent_id: str, reason: str, revocations: RevocationList
) -> int:
    """End the logins of an agent acting for an enterprise; how many ended."""
    sids = await repository.live_act_as_sessions(session, account_id=enterprise_id, actor_id=agent_id)
    await _end_logins(session, sids=sids, reason=reason, revocations=revocations, now=datetime.now(UTC))
    return len(sids)


async def revoke_access_token(session: AsyncSession, *, jti: str, exp: float, revocations: RevocationList) -> None:
    """Deny one access token until it expires."""
    now = datetime.now(UTC)
    until = datetime.fromtimestamp(exp, UTC) + timedelta(seconds=60)
    await repository.add_revocation(session, key=f"jti:{jti}", now=now, expires_at=until)
    revocations.add(f"jti:{jti}", until)


async def login_of_refresh_token(session: AsyncSession, refresh_token: str) -> str | None:
    """The login id a refresh token belongs to (for logout with only a refresh token)."""
    row = await repository.get_refresh_token(session, hash_secret(refresh_token))
    return row.session_id if row is not None else None
