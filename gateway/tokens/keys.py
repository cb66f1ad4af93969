"""The gateway's signing keys: Ed25519, named by their RFC 7638 thumbprint, rotated without logouts.

Keys live in the gateway database (so a restart or a second instance signs and verifies with the
same keys) unless production hands one in as a PEM (``GATEWAY_SIGNING_KEY_PEM``, with earlier
public keys in ``GATEWAY_PREVIOUS_PUBLIC_KEYS_PEM``).

Rotation is publish-then-sign: the new key is in the JWKS at once, but tokens are signed with it
only ``key_activation_delay_seconds`` later. A service that fetched the key set just before the
rotation may refetch only every few seconds (owkernel.auth); by the time it sees the new kid it
is allowed to. The old key stays published until every token it signed has expired.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import structlog
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from jwt.algorithms import OKPAlgorithm
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.settings import GatewaySettings
from gateway.tokens import repository
from gateway.tokens.models import SigningKey
from owkernel.auth import ACCESS_TYP
from owkernel.db import Database
from owkernel.errors import Conflict

log = structlog.get_logger("gateway.keys")

_PEM_BLOCK = re.compile(r"-----BEGIN PUBLIC KEY-----.+?-----END PUBLIC KEY-----", re.S)


def public_jwk(public: Ed25519PublicKey) -> dict[str, Any]:
    """The public JWK (kty, crv, x) plus kid, use and alg."""
    jwk: dict[str, Any] = OKPAlgorithm.to_jwk(public, as_dict=True)
    core = {"crv": jwk["crv"], "kty": jwk["kty"], "x": jwk["x"]}
    digest = hashlib.sha256(json.dumps(core, separators=(",", ":"), sort_keys=True).encode()).digest()
    kid = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    return {**core, "kid": kid, "use": "sig", "alg": "EdDSA"}


def private_pem(key: Ed25519PrivateKey) -> str:
    """PKCS#8 PEM of a private key."""
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def load_private(pem: str) -> Ed25519PrivateKey:
    """An Ed25519 private key from PEM (anything else is a configuration error)."""
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("the signing key must be an Ed25519 private key")
    return key


@dataclass(frozen=True)
class ActiveKey:
    """A key that signs (or will sign, or did sign) tokens."""

    kid: str
    private: Ed25519PrivateKey
    created_at: datetime | None = None
    retired_at: datetime | None = None


class KeyStore:
    """Current signing key and the published key set, loaded from settings or the database."""

    def __init__(self, settings: GatewaySettings) -> None:
        self.settings = settings
        self.from_settings = settings.signing_key_pem is not None
        self._signers: list[ActiveKey] = []  # newest first
        self._published: list[dict[str, Any]] = []
        self._db: Database | None = None
        self._loaded_at = 0.0

    # --- loading -------------------------------------------------------------------------------
    async def start(self, db: Database) -> None:
        """Load the keys (making the first one if the database has none)."""
        self._db = db
        if self.from_settings:
            self._load_settings()
            return
        async with db.transaction() as session:
            if await repository.current_signing_key(session) is None:
                await self._add_new_key(session)
        await self.reload()

    def _load_settings(self) -> None:
        assert self.settings.signing_key_pem is not None
        private = load_private(self.settings.signing_key_pem.get_secret_value())
        current = public_jwk(private.public_key())
        self._signers = [ActiveKey(kid=current["kid"], private=private)]
        published = [current]
        for block in _PEM_BLOCK.findall(self.settings.previous_public_keys_pem or ""):
            public = serialization.load_pem_public_key(block.encode())
            if not isinstance(public, Ed25519PublicKey):
                raise ValueError("previous public keys must be Ed25519")
            published.append(public_jwk(public))
        self._published = published
        self._loaded_at = time.monotonic()

    async def reload(self) -> None:
        """Read the keys from the database again (another instance may have rotated)."""
        if self.from_settings or self._db is None:
            return
        keep_since = datetime.now(UTC) - timedelta(seconds=self.settings.retired_key_keep_seconds)
        async with self._db.transaction() as session:
            rows = await repository.published_signing_keys(session, retired_after=keep_since)
        self._signers = [
            ActiveKey(
                kid=r.kid,
                private=load_private(r.private_pem),
                created_at=r.created_at,
                retired_at=r.retired_at,
            )
            for r in rows
        ]
        self._published = [dict(r.public_jwk) for r in rows]
        self._loaded_at = time.monotonic()

    async def reload_if_stale(self, min_age: float = 5.0) -> None:
        """Reload unless that happened less than ``min_age`` seconds ago (a flood of unknown kids)."""
        if time.monotonic() - self._loaded_at >= min_age:
            await self.reload()

    async def _add_new_key(self, session: AsyncSession) -> SigningKey:
        private = Ed25519PrivateKey.generate()
        jwk = public_jwk(private.public_key())
        row = SigningKey(
            kid=jwk["kid"],
            private_pem=private_pem(private),
            public_jwk=jwk,
            created_at=datetime.now(UTC),
            retired_at=None,
        )
        session.add(row)
        await session.flush()
        return row

    # --- use -----------------------------------------------------------------------------------
    async def rotate(self, session: AsyncSession) -> tuple[str, str | None]:
        """Sign with a new key from now on; the old one stays published. Returns (new kid, old kid)."""
        if self.from_settings:
            raise Conflict("The signing key comes from settings; rotate it by changing GATEWAY_SIGNING_KEY_PEM.")
        old = await repository.current_signing_key(session)
        new = await self._add_new_key(session)
        if old is not None:
            # The old key keeps signing until the new one is active, then only verifies.
            old.retired_at = new.created_at + timedelta(seconds=self.settings.key_activation_delay_seconds)
        return new.kid, old.kid if old is not None else None

    def jwks(self) -> dict[str, Any]:
        """The public key set (``/.well-known/jwks.json``)."""
        return {"keys": [dict(k) for k in self._published]}

    def active(self, now: datetime | None = None) -> ActiveKey:
        """The key that signs now: the newest matured one still allowed to sign, else the oldest."""
        now = now or datetime.now(UTC)
        delay = timedelta(seconds=self.settings.key_activation_delay_seconds)
        candidates = [k for k in self._signers if k.retired_at is None or k.retired_at > now]
        if not candidates:
            raise RuntimeError("the key store has no signing key (not started?)")
        matured = [k for k in candidates if k.created_at is None or k.created_at + delay <= now]
        # None matured (a rotation right after the first key was made): keep the one signing so far.
        return matured[0] if matured else candidates[-1]

    def sign(self, claims: dict[str, Any]) -> str:
        """An access token: EdDSA, ``kid`` and ``typ`` in the header."""
        key = self.active()
        return jwt.encode(claims, key.private, algorithm="EdDSA", headers={"kid": key.kid, "typ": ACCESS_TYP})
