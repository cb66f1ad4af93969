"""The gateway's own token check: its key store directly, the revocation list, a short cache.

Services verify tokens themselves against the JWKS; the gateway additionally refuses tokens of
logins that ended (logout, refresh-token reuse). The door checks a token on every proxied
request, so a verified token is remembered for a few seconds (never past its ``exp``); the
revocation check itself runs on every request.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import structlog

from gateway.tokens import repository
from gateway.tokens.keys import KeyStore
from owkernel.auth import Principal, TokenVerifier
from owkernel.db import Database
from owkernel.errors import Unauthorized

log = structlog.get_logger("gateway.tokens")


class RevocationList:
    """Denied token ids and login ids, in memory, kept in step with the database."""

    def __init__(self) -> None:
        self._denied: dict[str, float] = {}  # key -> unix time after which it no longer matters
        self._synced_to: datetime | None = None

    def add(self, key: str, expires_at: datetime) -> None:
        """Deny ``key`` (``jti:...`` or ``sid:...``) at once, in this process."""
        self._denied[key] = max(self._denied.get(key, 0.0), expires_at.timestamp())

    def is_revoked(self, jti: str | None, sid: str | None) -> bool:
        """True when the token or its login was revoked."""
        denied = self._denied
        return (jti is not None and ("jti:" + jti) in denied) or (sid is not None and ("sid:" + sid) in denied)

    async def sync(self, db: Database) -> None:
        """Pick up revocations other instances wrote; drop those that expired."""
        now = datetime.now(UTC)
        # Overlap the previous window: rows committed late by another instance are still seen.
        since = (self._synced_to - timedelta(seconds=30)) if self._synced_to else datetime(1970, 1, 1, tzinfo=UTC)
        async with db.transaction() as session:
            rows = await repository.revocations_since(session, since=since, now=now)
        for row in rows:
            self.add(row.key, row.expires_at)
        self._synced_to = now
        cutoff = now.timestamp()
        for key in [k for k, v in self._denied.items() if v <= cutoff]:
            del self._denied[key]


@dataclass(frozen=True)
class Verified:
    """A verified access token."""

    principal: Principal
    claims: dict[str, Any]
    exp: float


class GatewayVerifier(TokenVerifier):
    """Token checks with the gateway's key store, revocations and a small cache.

    ``fallback`` (optional) is another verifier trusted for kids the key store does not know:
    tests that run the gateway next to services with ``owtest.SigningKeys`` use it.
    """

    def __init__(
        self,
        *,
        keys: KeyStore,
        revocations: RevocationList,
        issuer: str,
        audience: str,
        cache_seconds: float = 30.0,
        fallback: TokenVerifier | None = None,
        max_cache: int = 50_000,
    ) -> None:
        self.keystore = keys

        async def fetch() -> dict[str, Any]:
            await keys.reload_if_stale()
            return keys.jwks()

        super().__init__(issuer=issuer, audience=audience, fetch_keys=fetch, cache_seconds=60.0, min_refetch_seconds=0)
        self.revocations = revocations
        self.token_cache_seconds = cache_seconds
        self.fallback = fallback
        self.max_cache = max_cache
        self._cache: dict[str, tuple[Verified, float]] = {}

    async def verify(self, token: str) -> Principal:
        """The principal of a valid, unrevoked access token; ``Unauthorized`` otherwise."""
        return (await self.check(token)).principal

    async def check(self, token: str) -> Verified:
        """Verify (or recall a recent verification of) ``token`` and check revocation."""
        now = time.time()
        hit = self._cache.get(token)
        if hit is not None and hit[1] > now:
            verified = hit[0]
        else:
            verified = await self._verify_uncached(token)
            if len(self._cache) >= self.max_cache:
                self._cache.clear()
            self._cache[token] = (verified, min(verified.exp, now + self.token_cache_seconds))
        if verified.exp + self.leeway <= now:
            raise Unauthorized("The token has expired.")
        if self.revocations.is_revoked(verified.claims.get("jti"), verified.claims.get("sid")):
            raise Unauthorized("The token has been revoked; log in again.")
        return verified

    async def _verify_uncached(self, token: str) -> Verified:
        if self.fallback is not None:
            try:
                kid = jwt.get_unverified_header(token).get("kid")
            except jwt.PyJWTError as exc:
                raise Unauthorized("The token is malformed.") from exc
            if kid is not None and kid not in {k["kid"] for k in self.keystore.jwks()["keys"]}:
                await self.keystore.reload_if_stale()
                if kid not in {k["kid"] for k in self.keystore.jwks()["keys"]}:
                    principal = await self.fallback.verify(token)
                    claims = jwt.decode(token, options={"verify_signature": False})
                    return Verified(principal=principal, claims=claims, exp=float(claims["exp"]))
        principal = await super().verify(token)
        # The signature and claims were just verified; read the rest (sid, exp) from the payload.
        claims = jwt.decode(token, options={"verify_signature": False})
        return Verified(principal=principal, claims=claims, exp=float(claims["exp"]))
