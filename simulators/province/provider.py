"""The provider's state: its signing key and its bounded in-memory stores, and what they hold.

One ``Provider`` per app (``app.state.provider``); the endpoints reach it through ``ProviderDep``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import Depends, Request

from simulators.province.settings import ProvinceSimSettings

ACR = "urn:province:loa:substantial"
IDENTITY_CLAIMS = ("id_number", "name", "id_kind")

T = TypeVar("T")


class Expiring(Generic[T]):
    """A bounded map whose entries expire; when full, the oldest entry gives way.

    Entries of one map share one lifetime, so insertion order is expiry order and purging looks
    at the front only. Giving way (rather than refusing) keeps the newest login working when the
    simulator is flooded, which is what a developer at the keyboard needs.
    """

    def __init__(self, *, ttl: float, cap: int) -> None:
        self.ttl, self.cap = ttl, cap
        self._items: OrderedDict[str, tuple[float, T]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def _purge(self, now: float) -> None:
        while self._items:
            key, (expires, _) = next(iter(self._items.items()))
            if expires > now:
                break
            del self._items[key]

    def put(self, value: T) -> str:
        """Store ``value`` under a new unguessable key and return the key."""
        now = time.monotonic()
        self._purge(now)
        while len(self._items) >= self.cap:
            self._items.popitem(last=False)
        key = secrets.token_urlsafe(32)
        self._items[key] = (now + self.ttl, value)
        return key

    def get(self, key: str) -> T | None:
        """The live value under ``key``, left in place."""
        entry = self._items.get(key)
        if entry is None or entry[0] <= time.monotonic():
            return None
        return entry[1]

    def take(self, key: str) -> T | None:
        """The live value under ``key``, removed: whoever takes it first is the only one."""
        entry = self._items.pop(key, None)
        if entry is None or entry[0] <= time.monotonic():
            return None
        return entry[1]


@dataclass(frozen=True)
class AuthorizationRequest:
    """A validated /authorize request waiting for the login form."""

    client_id: str
    redirect_uri: str
    scope: str
    state: str
    nonce: str
    code_challenge: str


@dataclass(frozen=True)
class Identity:
    """Who logged in on the form."""

    id_number: str
    name: str
    kind: str  # "person" | "enterprise"
    auth_time: int


@dataclass(frozen=True)
class Grant:
    """What an authorization code stands for."""

    request: AuthorizationRequest
    identity: Identity


def _b64url_uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class Provider:
    """The simulated provider's key (new at every start) and what it remembers, in memory."""

    def __init__(self, settings: ProvinceSimSettings) -> None:
        self.settings = settings
        self.issuer = settings.issuer
        self.base = settings.issuer.rstrip("/")
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        numbers = self._key.public_key().public_numbers()
        public_jwk = {"kty": "RSA", "e": _b64url_uint(numbers.e), "n": _b64url_uint(numbers.n)}
        # RFC 7638 thumbprint: the required members, sorted, no whitespace.
        thumbprint = hashlib.sha256(json.dumps(public_jwk, sort_keys=True, separators=(",", ":")).encode()).digest()
        self.kid = base64.urlsafe_b64encode(thumbprint).rstrip(b"=").decode()
        self.jwks = {"keys": [public_jwk | {"kid": self.kid, "use": "sig", "alg": "RS256"}]}
        self.pending: Expiring[AuthorizationRequest] = Expiring(
            ttl=settings.login_ttl_seconds, cap=settings.max_pending_logins
        )
        self.codes: Expiring[Grant] = Expiring(ttl=settings.code_ttl_seconds, cap=settings.max_codes)
        self.access_tokens: Expiring[tuple[str, Identity]] = Expiring(
            ttl=settings.id_token_ttl_seconds, cap=settings.max_access_tokens
        )

    def stores(self) -> dict[str, Expiring[Any]]:
        """Every store by name (what the tests look into)."""
        return {"pending": self.pending, "codes": self.codes, "access_tokens": self.access_tokens}

    def sign(self, claims: dict[str, Any]) -> str:
        """An RS256 JWT of ``claims`` under the provider's key."""
        return jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": self.kid})


def get_provider(request: Request) -> Provider:
    """The app's provider state."""
    provider: Provider = request.app.state.provider
    return provider


ProviderDep = Annotated[Provider, Depends(get_provider)]
