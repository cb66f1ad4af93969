"""Token verification for every service: the gateway signs, each service checks on its own.

Access tokens are JWTs signed with the gateway's asymmetric key (EdDSA), listed in its JWKS. The
verifier fetches the key set asynchronously, caches it, and refetches when a token names an
unknown ``kid`` (key rotation) at most once every few seconds, so a flood of forged kids cannot
turn it into a fetch storm. Algorithms are pinned; ``iss aud sub exp iat jti`` are required;
``typ`` must say it is an access token.

A verified token is remembered (by its exact text) for at most ``verified_seconds`` and never
past its ``exp``: a caller's next requests skip the signature check, which was the largest single
cost of a small request. A key removed from the set therefore stops being honoured within that
minute rather than at once; the gateway's own check (with its revocation list) stays immediate.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Annotated, Any

import httpx
import jwt
from cachetools import TLRUCache
from fastapi import Depends, Request
from jwt import PyJWK, PyJWKSet

from owkernel.errors import Forbidden, Unauthorized

ALGORITHMS = ["EdDSA"]
ACCESS_TYP = "at+jwt"
ROLES = ("clerk", "approver", "supervisor", "finance", "admin")
STAFF_ROLES = frozenset(ROLES)
ASSURANCES = ("self_declared", "verified")


@dataclass(frozen=True)
class Actor:
    """The person acting for the token's subject (RFC 8693 ``act``): an enterprise's agent."""

    subject_id: str
    id_number: str | None = None
    name: str | None = None


@dataclass(frozen=True)
class Principal:
    """The verified caller."""

    subject_id: str
    kind: str  # "person" | "enterprise" | "staff"
    roles: frozenset[str] = field(default_factory=frozenset)
    department: str | None = None
    name: str | None = None
    # For persons and enterprises: the identity number that owns their applications.
    id_number: str | None = None
    username: str | None = None
    token_id: str | None = None
    # "self_declared" | "verified" for persons and enterprises; None for staff (not concerned).
    assurance: str | None = None
    actor: Actor | None = None
    # For staff: the code of the hall they work at (intake keeps the registry); None for others,
    # and for a staff token older than halls (the city's hall, "CITY").
    hall: str | None = None

    @property
    def is_verified(self) -> bool:
        """True when the caller's identity number was proven (province login or a window check)."""
        return self.assurance == "verified"

    @property
    def is_staff(self) -> bool:
        """True for clerks, approvers, supervisors, finance and admins."""
        return self.kind == "staff"

    def has_role(self, *roles: str) -> bool:
        """True if the caller holds any of ``roles``."""
        return bool(self.roles.intersection(roles))

    @property
    def display(self) -> str:
        """A short name for audit records; an agent's reads "<agent> for <enterprise>"."""
        own = self.username or self.id_number or self.subject_id
        if self.actor is None:
            return own
        return f"{self.actor.id_number or self.actor.subject_id} for {own}"


KeyFetcher = Callable[[], Coroutine[Any, Any, dict[str, Any]]]


class TokenVerifier:
    """Verifies access tokens against a (cached, rotating) JWKS."""

    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        fetch_keys: KeyFetcher,
        cache_seconds: float = 300.0,
        min_refetch_seconds: float = 5.0,
        leeway: float = 5.0,
        verified_seconds: float = 60.0,
        verified_max: int = 10_000,
    ) -> None:
        self.issuer = issuer
        self.audience = audience
        self._fetch_keys = fetch_keys
        self.cache_seconds = cache_seconds
        self.min_refetch_seconds = min_refetch_seconds
        self.leeway = leeway
        self._keys: dict[str, PyJWK] = {}
        self._fetched_at = 0.0
        self._lock = asyncio.Lock()
        # token -> (principal, exp); kept until the earlier of exp and verified_seconds from now.
        self._verified: TLRUCache[str, tuple[Principal, float]] = TLRUCache(
            maxsize=verified_max,
            ttu=lambda _token, value, now: min(value[1], now + verified_seconds),
            timer=time.time,
        )

    @classmethod
    def from_url(
        cls, url: str, *, client: httpx.AsyncClient, issuer: str, audience: str, cache_seconds: float = 300.0
    ) -> TokenVerifier:
        """A verifier that reads the key set from the gateway's ``/.well-known/jwks.json``."""

        async def fetch() -> dict[str, Any]:
            response = await client.get(url, timeout=5.0)
            response.raise_for_status()
            body: dict[str, Any] = response.json()
            return body

        return cls(issuer=issuer, audience=audience, fetch_keys=fetch, cache_seconds=cache_seconds)

    async def _refresh(self, *, force: bool) -> None:
        async with self._lock:
            age = time.monotonic() - self._fetched_at
            if self._keys and (age < self.min_refetch_seconds or (not force and age < self.cache_seconds)):
                return
            try:
                jwks = PyJWKSet.from_dict(await self._fetch_keys())
            except Exception as exc:
                if self._keys:
                    return
                raise Unauthorized("The token cannot be verified right now.") from exc
            self._keys = {k.key_id: k for k in jwks.keys if k.key_id}
            self._fetched_at = time.monotonic()

    async def _key(self, kid: str) -> PyJWK:
        await self._refresh(force=False)
        if kid not in self._keys:
            await self._refresh(force=True)
        key = self._keys.get(kid)
        if key is None:
            raise Unauthorized("The token is signed with an unknown key.")
        return key

    async def verify(self, token: str) -> Principal:
        """Return the principal of a valid access token; raise ``Unauthorized`` otherwise."""
        remembered = self._verified.get(token)
        if remembered is not None:
            return remembered[0]
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise Unauthorized("The token is malformed.") from exc
        if header.get("alg") not in ALGORITHMS:
            raise Unauthorized("The token's algorithm is not accepted.")
        if header.get("typ") != ACCESS_TYP:
            raise Unauthorized("This is not an access token.")
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise Unauthorized("The token names no key.")
        key = await self._key(kid)
        try:
            claims = jwt.decode(
                token,
                key=key,
                algorithms=ALGORITHMS,
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": ["iss", "aud", "sub", "exp", "iat", "jti"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("The token has expired.") from exc
        except jwt.PyJWTError as exc:
            raise Unauthorized("The token is not valid.") from exc
        principal = principal_from_claims(claims)
        self._verified[token] = (principal, float(claims["exp"]))
        return principal


def principal_from_claims(claims: dict[str, Any]) -> Principal:
    """Map verified claims to a Principal."""
    kind = claims.get("kind")
    if kind not in ("person", "enterprise", "staff"):
        raise Unauthorized("The token's subject kind is unknown.")
    roles = claims.get("roles") or []
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise Unauthorized("The token's roles are malformed.")
    return Principal(
        subject_id=str(claims["sub"]),
        kind=kind,
        roles=frozenset(roles),
        department=claims.get("department"),
        name=claims.get("name"),
        id_number=claims.get("idn"),
        username=claims.get("username"),
        token_id=str(claims["jti"]),
        assurance=_assurance(kind, claims.get("assurance")),
        actor=_actor(claims.get("act")),
        hall=_hall(kind, claims.get("hall")),
    )


def _hall(kind: str, value: Any) -> str | None:
    if kind != "staff" or value is None:
        return None
    if not isinstance(value, str):
        raise Unauthorized("The token's hall is malformed.")
    return value


def _assurance(kind: str, value: Any) -> str | None:
    if kind == "staff":
        return None
    if value is None:
        # A person's token that says nothing about its proof is taken as unproven (fail closed).
        return "self_declared"
    if value not in ASSURANCES:
        raise Unauthorized("The token's assurance is malformed.")
    return str(value)


def _actor(value: Any) -> Actor | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise Unauthorized("The token's actor is malformed.")
    subject, id_number, name = value.get("sub"), value.get("idn"), value.get("name")
    if not isinstance(subject, str) or not subject:
        raise Unauthorized("The token's actor is malformed.")
    if not all(part is None or isinstance(part, str) for part in (id_number, name)):
        raise Unauthorized("The token's actor is malformed.")
    return Actor(subject_id=subject, id_number=id_number, name=name)


def bearer_token(request: Request) -> str | None:
    """The bearer token of a request, if any."""
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Use 'Authorization: Bearer <token>'.")
    return token.strip()


def _verifier(request: Request) -> TokenVerifier:
    verifier: TokenVerifier = request.app.state.verifier
    return verifier


async def optional_principal(request: Request) -> Principal | None:
    """The caller, or None when the request carries no token (a bad token is still 401)."""
    token = bearer_token(request)
    if token is None:
        return None
    principal = await _verifier(request).verify(token)
    request.state.principal = principal
    return principal


async def require_principal(request: Request) -> Principal:
    """The caller; 401 without a valid token."""
    principal = await optional_principal(request)
    if principal is None:
        raise Unauthorized("Authentication required.", headers={"WWW-Authenticate": "Bearer"})
    return principal


CurrentPrincipal = Annotated[Principal, Depends(require_principal)]
OptionalPrincipal = Annotated[Principal | None, Depends(optional_principal)]


class IdentityNotVerified(Forbidden):
    """A person or enterprise whose identity number is only self-declared asked for its records."""

    TYPE = "urn:onewindow:problem:identity-not-verified"

    def __init__(self) -> None:
        super().__init__(
            "Prove your identity through the province's unified login or at a window first.",
            title="Identity not verified",
            type_=self.TYPE,
            code="identity_not_verified",
        )


async def require_verified_principal(principal: CurrentPrincipal) -> Principal:
    """The caller; 403 for a person or enterprise whose identity number is not proven (staff pass)."""
    if not principal.is_staff and not principal.is_verified:
        raise IdentityNotVerified()
    return principal


# Every route that reads or writes a record bound to an identity number takes this one.
VerifiedPrincipal = Annotated[Principal, Depends(require_verified_principal)]


def require_roles(*roles: str) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """A dependency admitting only callers that hold one of ``roles`` (403 otherwise)."""

    async def dependency(principal: CurrentPrincipal) -> Principal:
        if not principal.has_role(*roles):
            raise Forbidden(f"This needs one of the roles: {', '.join(roles)}.")
        return principal

    return dependency
