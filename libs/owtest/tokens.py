"""Access tokens signed as the gateway signs them, and the Authorization headers tests send."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm

from owkernel.auth import ACCESS_TYP, TokenVerifier


class SigningKeys:
    """An Ed25519 key set that signs access tokens exactly as the gateway does (for service tests)."""

    def __init__(self, *, issuer: str = "onewindow-gateway", audience: str = "onewindow") -> None:
        self.issuer = issuer
        self.audience = audience
        self.keys: dict[str, Ed25519PrivateKey] = {}
        self.current = self.rotate()

    def rotate(self) -> str:
        """Add a new key and sign with it from now on; old keys stay published."""
        kid = uuid.uuid4().hex[:16]
        self.keys[kid] = Ed25519PrivateKey.generate()
        self.current = kid
        return kid

    def jwks(self) -> dict[str, Any]:
        """The public key set."""
        out = []
        for kid, key in self.keys.items():
            jwk: dict[str, Any] = OKPAlgorithm.to_jwk(key.public_key(), as_dict=True)
            jwk.update({"kid": kid, "use": "sig", "alg": "EdDSA"})
            out.append(jwk)
        return {"keys": out}

    def verifier(self) -> TokenVerifier:
        """A verifier reading this key set directly (no HTTP)."""

        async def fetch() -> dict[str, Any]:
            return self.jwks()

        return TokenVerifier(issuer=self.issuer, audience=self.audience, fetch_keys=fetch, min_refetch_seconds=0)

    def token(
        self,
        subject: str,
        *,
        kind: str = "person",
        roles: list[str] | None = None,
        department: str | None = None,
        id_number: str | None = None,
        name: str | None = None,
        username: str | None = None,
        ttl: timedelta = timedelta(minutes=15),
        **overrides: Any,
    ) -> str:
        """A signed access token."""
        now = datetime.now(UTC)
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": subject,
            "iat": now,
            "exp": now + ttl,
            "jti": uuid.uuid4().hex,
            "kind": kind,
            "roles": roles or [],
            "department": department,
            "idn": id_number,
            "name": name,
            "username": username,
        }
        claims.update(overrides)
        return jwt.encode(
            claims, self.keys[self.current], algorithm="EdDSA", headers={"kid": self.current, "typ": ACCESS_TYP}
        )

    def citizen(self, id_number: str, name: str = "测试居民", *, assurance: str = "verified") -> str:
        """Token of a person whose identity number is ``id_number`` (proven, unless ``assurance`` says not)."""
        return self.token(f"u-{id_number}", kind="person", id_number=id_number, name=name, assurance=assurance)

    def self_declared(self, id_number: str, name: str = "测试居民") -> str:
        """Token of a person who only typed ``id_number`` in at registration (not proven)."""
        return self.citizen(id_number, name, assurance="self_declared")

    def staff(self, username: str, *roles: str, department: str | None = None, hall: str | None = None) -> str:
        """Token of a staff member (of ``hall``; without it the token names none, as before halls)."""
        extra: dict[str, Any] = {} if hall is None else {"hall": hall}
        return self.token(
            f"s-{username}",
            kind="staff",
            roles=list(roles),
            department=department,
            username=username,
            name=username,
            **extra,
        )


def bearer(token: str) -> dict[str, str]:
    """The Authorization header carrying ``token``."""
    return {"Authorization": f"Bearer {token}"}


@dataclass(frozen=True)
class Headers:
    """Authorization headers of the people a test acts as, signed with ``keys``.

    Each service's harness names its usual people (its clerk, its approvers) with these; the
    usernames are the harness's, since tests read them back (who decided, who accepted)."""

    keys: SigningKeys

    def citizen(self, id_number: str, name: str = "测试居民", *, assurance: str = "verified") -> dict[str, str]:
        """A person identified by ``id_number`` (proven, unless ``assurance`` says not)."""
        return bearer(self.keys.citizen(id_number, name, assurance=assurance))

    def enterprise(self, code: str, name: str = "烟台示范科技有限公司") -> dict[str, str]:
        """An enterprise identified by its unified social credit code."""
        return bearer(self.keys.token(f"e-{code}", kind="enterprise", id_number=code, name=name, assurance="verified"))

    def staff(
        self, username: str, *roles: str, department: str | None = None, hall: str | None = None
    ) -> dict[str, str]:
        """A staff member with ``roles`` (of ``department`` and ``hall`` when given)."""
        return bearer(self.keys.staff(username, *roles, department=department, hall=hall))

    def admin(self, username: str = "admin") -> dict[str, str]:
        """The administrator."""
        return self.staff(username, "admin")

    def supervisor(self, username: str = "sup") -> dict[str, str]:
        """A supervisor."""
        return self.staff(username, "supervisor")

    def clerk(self, username: str = "clerk1") -> dict[str, str]:
        """A window clerk."""
        return self.staff(username, "clerk")

    def approver(self, department: str, username: str | None = None) -> dict[str, str]:
        """An approver of ``department`` (``approver_<department>`` unless named)."""
        return self.staff(username or f"approver_{department.lower()}", "approver", department=department)
