"""Access tokens and rotating refresh tokens: issue, rotate (with reuse detection), revoke."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

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


def hash_refresh(token: str) -> str:
    """What is stored of a refresh token."""
    return hashlib.sha256(token.encode()).hexdigest()


def access_claims(account: Account, *, settings: GatewaySettings, sid: str, now: datetime) -> dict[str, Any]:
    """The claims of an access token (owkernel.auth.principal_from_claims reads them)."""
    staff = account.kind == "staff"
    return {
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


async def _new_pair(
    session: AsyncSession, *, account: Account, sid: str, keys: KeyStore, settings: GatewaySettings, now: datetime
) -> TokenPair:
    refresh = secrets.token_urlsafe(32)
    await repository.add_refresh_token(
        session,
        token_hash=hash_refresh(refresh),
        sid=sid,
        now=now,
        expires_at=now + timedelta(seconds=settings.refresh_token_ttl_seconds),
    )
    access = keys.sign(access_claims(account, settings=settings, sid=sid, now=now))
    return TokenPair(
        access_token=access,
        refresh_token=refresh,
        expires_in=settings.access_token_ttl_seconds,
        refresh_expires_in=settings.refresh_token_ttl_seconds,
    )


async def start_login(
    session: AsyncSession, *, account: Account, keys: KeyStore, settings: GatewaySettings
) -> TokenPair:
    """A new login for ``account``: a new refresh-token family and its first pair."""
    now = datetime.now(UTC)
    sid = uuid.uuid4().hex
    await repository.add_login_session(session, sid=sid, account_id=account.id, now=now)
    return await _new_pair(session, account=account, sid=sid, keys=keys, settings=settings, now=now)


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
    token_hash = hash_refresh(refresh_token)
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
    pair = await _new_pair(session, account=account, sid=login.id, keys=keys, settings=settings, now=now)
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


async def revoke_access_token(session: AsyncSession, *, jti: str, exp: float, revocations: RevocationList) -> None:
    """Deny one access token until it expires."""
    now = datetime.now(UTC)
    until = datetime.fromtimestamp(exp, UTC) + timedelta(seconds=60)
    await repository.add_revocation(session, key=f"jti:{jti}", now=now, expires_at=until)
    revocations.add(f"jti:{jti}", until)


async def login_of_refresh_token(session: AsyncSession, refresh_token: str) -> str | None:
    """The login id a refresh token belongs to (for logout with only a refresh token)."""
    row = await repository.get_refresh_token(session, hash_refresh(refresh_token))
    return row.session_id if row is not None else None
