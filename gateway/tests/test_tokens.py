"""Tokens: refresh rotation and reuse detection, logout, key rotation, and forged tokens (401)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gateway.state import GatewayState
from gateway.tests.harness import Stack
from owtest import bearer, eventually


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _state(stack: Stack) -> GatewayState:
    state: GatewayState = stack.app.state.kernel.state
    return state


async def _works(stack: Stack, token: str) -> tuple[int, int]:
    """(status at the gateway's own /me, status through the door at the upstream service)."""
    me = await stack.client.get("/api/v1/auth/me", headers=bearer(token))
    proxied = await stack.client.get("/api/v1/tasks/echo", headers=bearer(token))
    return me.status_code, proxied.status_code


async def test_jwks_and_claims(stack: Stack) -> None:
    _, tokens = await stack.citizen()
    jwks = (await stack.client.get("/.well-known/jwks.json")).json()
    header = jwt.get_unverified_header(tokens["access_token"])
    assert header["alg"] == "EdDSA" and header["typ"] == "at+jwt"
    key = next(k for k in jwks["keys"] if k["kid"] == header["kid"])
    assert key["kty"] == "OKP" and key["crv"] == "Ed25519" and "d" not in key
    claims = jwt.decode(
        tokens["access_token"],
        jwt.PyJWK(key).key,
        algorithms=["EdDSA"],
        audience="onewindow",
        issuer="onewindow-gateway",
    )
    assert {"iss", "aud", "sub", "exp", "iat", "jti", "kind", "roles", "department", "idn", "name"} <= claims.keys()
    assert claims["exp"] - claims["iat"] == stack.settings.access_token_ttl_seconds


async def test_refresh_rotates_and_reuse_ends_the_login(stack: Stack) -> None:
    _, first = await stack.citizen()
    r = await stack.client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert r.status_code == 200
    second = r.json()
    assert second["refresh_token"] != first["refresh_token"] and second["access_token"] != first["access_token"]
    assert await _works(stack, second["access_token"]) == (200, 200)

    # The spent refresh token is presented again (stolen?): the whole login ends.
    reuse = await stack.client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert reuse.status_code == 401 and "already used" in reuse.json()["detail"]
    after = await stack.client.post("/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]})
    assert after.status_code == 401
    assert await _works(stack, second["access_token"]) == (401, 401)
    assert await _works(stack, first["access_token"]) == (401, 401)
    unknown = await stack.client.post("/api/v1/auth/refresh", json={"refresh_token": "made-up"})
    assert unknown.status_code == 401


async def test_logout_stops_the_tokens(stack: Stack) -> None:
    number, tokens = await stack.citizen()
    other = await stack.login(number)  # a second login of the same person is not affected
    assert await _works(stack, tokens["access_token"]) == (200, 200)
    r = await stack.client.post("/api/v1/auth/logout", headers=bearer(tokens["access_token"]))
    assert r.status_code == 204
    assert await _works(stack, tokens["access_token"]) == (401, 401)
    refresh = await stack.client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refresh.status_code == 401
    assert await _works(stack, other["access_token"]) == (200, 200)
    # logout with only the refresh token (the access token has expired, say)
    r = await stack.client.post("/api/v1/auth/logout", json={"refresh_token": other["refresh_token"]})
    assert r.status_code == 204
    assert (
        await stack.client.post("/api/v1/auth/refresh", json={"refresh_token": other["refresh_token"]})
    ).status_code == 401
    assert (await stack.client.post("/api/v1/auth/logout")).status_code == 401


async def test_key_rotation_logs_nobody_out(stack: Stack) -> None:
    admin = await stack.admin()
    number, before = await stack.citizen()
    old_kid = jwt.get_unverified_header(before["access_token"])["kid"]
    assert await _works(stack, before["access_token"]) == (200, 200)

    _, citizen = await stack.citizen()
    assert (
        await stack.client.post("/api/v1/admin/keys/rotate", headers=bearer(citizen["access_token"]))
    ).status_code == 403
    r = await stack.client.post("/api/v1/admin/keys/rotate", headers=bearer(admin))
    assert r.status_code == 200
    new_kid = r.json()["kid"]
    assert r.json()["previous_kid"] == old_kid and new_kid != old_kid
    kids = {k["kid"] for k in (await stack.client.get("/.well-known/jwks.json")).json()["keys"]}
    assert {old_kid, new_kid} <= kids  # published before it signs anything

    async def signed_with_new_key() -> dict[str, Any] | None:
        tokens = await stack.login(number)
        return tokens if jwt.get_unverified_header(tokens["access_token"])["kid"] == new_kid else None

    after = await eventually(signed_with_new_key, timeout=10, interval=0.2)
    assert await _works(stack, after["access_token"]) == (200, 200)  # the service learns the new key
    assert await _works(stack, before["access_token"]) == (200, 200)  # and still trusts the old one


def _forge_claims(stack: Stack, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "iss": stack.settings.jwt_issuer,
        "aud": stack.settings.jwt_audience,
        "sub": "someone",
        "iat": now,
        "exp": now + 600,
        "jti": uuid.uuid4().hex,
        "kind": "staff",
        "roles": ["admin"],
        "department": None,
        "idn": None,
        "name": "mallory",
        "username": "mallory",
    }
    claims.update(overrides)
    return claims


async def test_forged_and_unacceptable_tokens_are_401(stack: Stack) -> None:
    state = _state(stack)
    key = state.keys.active()
    jwks = state.keys.jwks()
    claims = _forge_claims(stack)

    def unsigned(header: dict[str, Any], payload: dict[str, Any], signature: bytes = b"") -> str:
        head = _b64(json.dumps(header).encode()) + "." + _b64(json.dumps(payload).encode())
        return head + "." + _b64(signature)

    def hs256_with_public_key() -> str:
        public = next(k for k in jwks["keys"] if k["kid"] == key.kid)
        secret = base64.urlsafe_b64decode(public["x"] + "==")
        header = {"alg": "HS256", "typ": "at+jwt", "kid": key.kid}
        head = _b64(json.dumps(header).encode()) + "." + _b64(json.dumps(claims).encode())
        return head + "." + _b64(hmac.new(secret, head.encode(), hashlib.sha256).digest())

    def signed(payload: dict[str, Any], *, typ: str = "at+jwt", private: Any = None, kid: str | None = None) -> str:
        return jwt.encode(
            payload, private or key.private, algorithm="EdDSA", headers={"kid": kid or key.kid, "typ": typ}
        )

    forged = {
        "alg none": unsigned({"alg": "none", "typ": "at+jwt", "kid": key.kid}, claims),
        "HS256 with the public key": hs256_with_public_key(),
        "expired": signed(_forge_claims(stack, iat=int(time.time()) - 7200, exp=int(time.time()) - 3600)),
        "wrong audience": signed(_forge_claims(stack, aud="somebody-else")),
        "wrong issuer": signed(_forge_claims(stack, iss="https://evil.example")),
        "missing jti": signed({k: v for k, v in claims.items() if k != "jti"}),
        "not an access token": signed(claims, typ="JWT"),
        "unknown key": signed(claims, private=Ed25519PrivateKey.generate(), kid="not-our-key"),
        "tampered payload": signed(claims).rsplit(".", 2)[0]
        + "."
        + _b64(json.dumps(claims | {"roles": ["admin", "supervisor"]}).encode())
        + "."
        + signed(claims).rsplit(".", 1)[1],
        "garbage": "not.a.token",
    }
    # the real thing works (proves the forgeries fail for their flaw alone)
    assert (await stack.client.get("/api/v1/auth/me", headers=bearer(signed(claims)))).status_code == 200
    for name, token in forged.items():
        me, proxied = await _works(stack, token)
        assert (me, proxied) == (401, 401), name
        r = await stack.client.get("/api/v1/tasks/echo", headers=bearer(token))
        assert r.headers["content-type"] == "application/problem+json", name


async def test_keys_survive_a_restart(stack: Stack) -> None:
    from gateway.tokens.keys import KeyStore

    _, tokens = await stack.citizen()
    fresh = KeyStore(stack.settings)
    await fresh.start(stack.app.state.kernel.db)
    assert jwt.get_unverified_header(tokens["access_token"])["kid"] in {k["kid"] for k in fresh.jwks()["keys"]}
    assert fresh.active().kid == _state(stack).keys.active().kid


async def test_keys_from_settings_pems() -> None:
    from cryptography.hazmat.primitives import serialization

    from gateway.settings import GatewaySettings
    from gateway.tokens.keys import KeyStore, private_pem, public_jwk
    from owkernel.errors import Conflict

    current, previous = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    old_public = previous.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    settings = GatewaySettings(signing_key_pem=private_pem(current), previous_public_keys_pem=old_public.decode())
    store = KeyStore(settings)
    await store.start(None)  # type: ignore[arg-type]  # no database in this mode
    kids = [k["kid"] for k in store.jwks()["keys"]]
    assert kids == [public_jwk(current.public_key())["kid"], public_jwk(previous.public_key())["kid"]]
    token = store.sign({"sub": "x"})
    assert jwt.get_unverified_header(token)["kid"] == kids[0]
    with pytest.raises(Conflict):
        await store.rotate(None)  # type: ignore[arg-type]


async def test_another_instance_learns_of_a_logout(stack: Stack) -> None:
    from gateway.tokens.verifier import RevocationList

    _, tokens = await stack.citizen()
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    other = RevocationList()  # what a second gateway process keeps
    await other.sync(stack.app.state.kernel.db)
    assert not other.is_revoked(claims["jti"], claims["sid"])
    assert (await stack.client.post("/api/v1/auth/logout", headers=bearer(tokens["access_token"]))).status_code == 204
    await other.sync(stack.app.state.kernel.db)
    assert other.is_revoked(claims["jti"], None) and other.is_revoked(None, claims["sid"])
