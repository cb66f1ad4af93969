"""Property tests of the door's own Authorization parsing and the gateway's token check.

The door reads ``Authorization`` itself (``Door._forward``, and ``_own_route_allowed`` for the
rate-limit key): a ``Bearer`` token must pass ``GatewayVerifier.check`` (signature, claims,
revocation, a short cache) or the request ends in a 401 problem+json that names
``invalid_token``; any other scheme is passed to the service, which refuses it itself. Whatever
the header holds, the door answers, it does not raise.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from starlette.types import Receive, Scope, Send

from gateway.door.proxy import Door
from gateway.door.transport import HttpxSender
from gateway.identity.passwords import Passwords
from gateway.identity.throttle import AddressThrottle
from gateway.province.client import ProvinceClient
from gateway.settings import GatewaySettings
from gateway.state import GatewayState
from gateway.tokens.keys import KeyStore, private_pem
from gateway.tokens.verifier import GatewayVerifier, RevocationList
from owkernel.errors import Unauthorized
from owkernel.settings import PlatformSettings

BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
LATIN1 = st.text(st.characters(codec="latin-1"), max_size=200)
BEARER_SCHEMES = st.sampled_from(["Bearer", "bearer", "BEARER", "bEARER"])
SPACES = st.text(st.sampled_from(" \t"), max_size=3)
EDITS = st.sampled_from(["replace", "insert", "delete"])
TOKEN_CHARS = st.one_of(st.sampled_from(BASE64URL + ".=+/ "), st.characters(codec="latin-1"))


def b64json(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


ARBITRARY_TOKENS = st.one_of(
    LATIN1,
    st.lists(st.text(st.sampled_from(BASE64URL), max_size=80), max_size=5).map(".".join),
    st.tuples(
        st.fixed_dictionaries(
            {"alg": st.sampled_from(["EdDSA", "none", "HS256"]), "typ": st.sampled_from(["at+jwt", "JWT"])},
            optional={"kid": st.one_of(st.text(max_size=50), st.integers())},
        ),
        st.dictionaries(st.sampled_from(["sub", "exp", "iss", "aud", "jti", "kind"]), st.text(max_size=10)),
        st.binary(max_size=80),
    ).map(lambda t: f"{b64json(t[0])}.{b64json(t[1])}.{base64.urlsafe_b64encode(t[2]).rstrip(b'=').decode()}"),
    st.sampled_from(["", ".", "..", "a.b.c", "null", "e30.e30.", "ÿ.é.þ"]),
    st.integers(10_000, 200_000).map(lambda n: "eyJ" + "A" * n + ".e30.AA"),
)


@dataclass
class Gate:
    """A door with the gateway's real verifier in front of an upstream that records what it got."""

    door: Door
    limited: Door  # the same, with the rate limiter on (it reads tokens for its key)
    keys: KeyStore
    verifier: GatewayVerifier
    revocations: RevocationList
    settings: GatewaySettings
    forwarded: list[httpx.Request] = field(default_factory=list)
    own_calls: int = 0

    def claims(self, **overrides: Any) -> dict[str, Any]:
        """Claims as gateway.tokens.service.access_claims writes them."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.settings.jwt_issuer,
            "aud": self.settings.jwt_audience,
            "sub": "acc-" + uuid.uuid4().hex[:12],
            "iat": now,
            "nbf": now,
            "exp": now + self.settings.access_token_ttl_seconds,
            "jti": uuid.uuid4().hex,
            "sid": uuid.uuid4().hex,
            "kind": "person",
            "roles": [],
            "department": None,
            "idn": "370602199001011234",
            "name": "测试居民",
            "username": None,
        }
        claims.update(overrides)
        return claims

    def token(self, **overrides: Any) -> str:
        return self.keys.sign(self.claims(**overrides))

    async def send(self, path: str, authorization: bytes | None, door: Door | None = None) -> httpx.Response:
        headers = {} if authorization is None else {b"authorization": authorization}
        transport = httpx.ASGITransport(app=door or self.door, client=("203.0.113.7", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            return await client.get(path, headers=headers)


@pytest.fixture(scope="module")
async def gate() -> AsyncIterator[Gate]:
    settings = GatewaySettings(
        signing_key_pem=private_pem(Ed25519PrivateKey.generate()),
        rate_limit_per_second=0,
        argon2_time_cost=1,
        argon2_memory_kib=1024,
        argon2_parallelism=1,
    )
    keys = KeyStore(settings)
    await keys.start(None)  # type: ignore[arg-type]  # keys from settings: no database
    revocations = RevocationList()
    verifier = GatewayVerifier(
        keys=keys,
        revocations=revocations,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        cache_seconds=settings.token_cache_seconds,
    )
    state = GatewayState(
        settings=settings,
        platform=PlatformSettings(),
        keys=keys,
        revocations=revocations,
        verifier=verifier,
        passwords=Passwords(settings),
        login_throttle=AddressThrottle(max_failures=5, window_seconds=60),
        province=ProvinceClient(issuer=None, settings=settings),
    )
    holder: dict[str, Gate] = {}

    async def own_app(scope: Scope, receive: Receive, send: Send) -> None:
        """The gateway's own routes (FastAPI in the real app): count and answer 200."""
        holder["gate"].own_calls += 1
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"own"})

    def upstream(request: httpx.Request) -> httpx.Response:
        holder["gate"].forwarded.append(request)
        return httpx.Response(200, json={"upstream": True})

    limited_settings = settings.model_copy(update={"rate_limit_per_second": 10_000.0})
    doors = []
    for door_state in (state, dataclasses.replace(state, settings=limited_settings)):
        door = Door(own_app, settings=door_state.settings, state=door_state)
        # The upstream: what the door would reach through the shared client's transport.
        door._transport = HttpxSender(httpx.MockTransport(upstream), timeout=door.timeout)
        doors.append(door)
    holder["gate"] = Gate(
        door=doors[0],
        limited=doors[1],
        keys=keys,
        verifier=verifier,
        revocations=revocations,
        settings=settings,
    )
    yield holder["gate"]


def edit(value: str, how: str, position: int, char: str) -> str:
    """``value`` with one character replaced, inserted or deleted at ``position`` (wrapped)."""
    if how == "insert":
        at = position % (len(value) + 1)
        return value[:at] + char + value[at:]
    at = position % len(value)
    return value[:at] + (char if how == "replace" else "") + value[at + 1 :]


def assert_invalid_token(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert response.json()["status"] == 401 and response.json()["detail"]


# --- the door --------------------------------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(scheme=BEARER_SCHEMES, before=SPACES, after=SPACES, kind=st.sampled_from(["person", "enterprise", "staff"]))
async def test_a_valid_bearer_token_is_forwarded_untouched(
    gate: Gate, scheme: str, before: str, after: str, kind: str
) -> None:
    token = gate.token(kind=kind)
    value = f"{scheme} {before}{token}{after}".encode()
    sent = len(gate.forwarded)
    r = await gate.send("/api/v1/tasks/echo", value)
    assert r.status_code == 200 and r.json() == {"upstream": True}
    assert len(gate.forwarded) == sent + 1
    assert gate.forwarded[-1].headers.get_list("authorization") == [value.decode("latin-1")]


@settings(max_examples=200, deadline=None)
@given(scheme=BEARER_SCHEMES, token=ARBITRARY_TOKENS)
async def test_a_bearer_that_is_no_valid_token_is_a_401_and_never_reaches_the_service(
    gate: Gate, scheme: str, token: str
) -> None:
    sent = len(gate.forwarded)
    assert_invalid_token(await gate.send("/api/v1/applications", f"{scheme} {token}".encode("latin-1")))
    assert len(gate.forwarded) == sent


@settings(max_examples=200, deadline=None)
@given(value=st.binary(max_size=300))
async def test_any_authorization_bytes_are_answered_never_raised(gate: Gate, value: bytes) -> None:
    """401 for a Bearer scheme (no random value is a valid token), forwarded as it is otherwise."""
    sent = len(gate.forwarded)
    r = await gate.send("/api/v1/shipments", value)
    scheme, _, _ = value.decode("latin-1").partition(" ")
    if scheme.lower() == "bearer":
        assert_invalid_token(r)
        assert len(gate.forwarded) == sent
    else:
        assert r.status_code == 200 and len(gate.forwarded) == sent + 1
        assert gate.forwarded[-1].headers.raw.count((b"authorization", value)) == 1


@settings(max_examples=100, deadline=None)
@given(value=st.one_of(st.binary(max_size=300), BEARER_SCHEMES.map(lambda s: s.encode() + b" x.y.z")))
async def test_the_rate_limited_own_routes_read_any_authorization_without_raising(gate: Gate, value: bytes) -> None:
    """The limiter keys a caller by its token's subject; a bad token is left to the route."""
    calls = gate.own_calls
    r = await gate.send("/api/v1/auth/me", value, door=gate.limited)
    assert r.status_code == 200 and r.text == "own"
    assert gate.own_calls == calls + 1


@settings(max_examples=50, deadline=None)
@given(scheme=BEARER_SCHEMES)
async def test_the_rate_limited_door_still_refuses_a_spliced_token(gate: Gate, scheme: str) -> None:
    head, body, _ = gate.token().split(".")
    other = gate.keys.sign(gate.claims())  # a genuine signature, over other claims
    spliced = f"{scheme} {head}.{body}.{other.split('.')[2]}".encode()
    assert_invalid_token(await gate.send("/api/v1/tasks", spliced, door=gate.limited))


# --- the gateway's verifier: signature, cache and revocation ---------------------------------


@settings(max_examples=200, deadline=None)
@given(
    segment=st.sampled_from([0, 1, 2]),
    how=EDITS,
    position=st.integers(min_value=0),
    char=TOKEN_CHARS,
)
async def test_a_changed_character_is_refused_even_right_after_the_token_was_cached(
    gate: Gate, segment: int, how: str, position: int, char: str
) -> None:
    token = gate.token()
    assert (await gate.verifier.check(token)).claims["jti"]  # now in the verifier's cache
    parts = token.split(".")
    parts[segment] = edit(parts[segment], how, position, char)
    changed = ".".join(parts)
    assume(changed != token)
    with pytest.raises(Unauthorized):
        await gate.verifier.check(changed)
    r = await gate.send("/api/v1/tasks", f"Bearer {changed}".encode("latin-1"))
    if changed.strip() == token:  # only whitespace around it, which the door trims: the same token
        assert r.status_code == 200
    else:
        assert_invalid_token(r)


@settings(max_examples=100, deadline=None)
@given(
    by=st.sampled_from(["jti", "sid"]),
    cached=st.booleans(),
    claims=st.fixed_dictionaries(
        {
            "kind": st.sampled_from(["person", "enterprise", "staff"]),
            "roles": st.lists(st.sampled_from(["clerk", "admin"])),
        }
    ),
)
async def test_a_revoked_token_is_refused_cached_or_not(
    gate: Gate, by: str, cached: bool, claims: dict[str, Any]
) -> None:
    payload = gate.claims(**claims)
    token = gate.keys.sign(payload)
    if cached:
        assert (await gate.verifier.check(token)).principal.subject_id == payload["sub"]
    gate.revocations.add(f"{by}:{payload[by]}", datetime.now(UTC) + timedelta(hours=1))
    with pytest.raises(Unauthorized, match="revoked"):
        await gate.verifier.check(token)
    assert_invalid_token(await gate.send("/api/v1/tasks", f"Bearer {token}".encode()))
    # Another login of the same account is not affected.
    other = gate.token(sub=payload["sub"])
    assert (await gate.verifier.check(other)).principal.subject_id == payload["sub"]


@settings(max_examples=100, deadline=None)
@given(
    change=st.sampled_from(["expired", "not_yet", "issuer", "audience", "typ", "alg_none", "unknown_kid"]),
    amount=st.integers(60, 10**6),
)
async def test_tokens_with_bad_claims_or_headers_are_refused(gate: Gate, change: str, amount: int) -> None:
    now = int(time.time())
    if change == "expired":
        token = gate.token(iat=now - amount - 60, nbf=now - amount - 60, exp=now - amount)
    elif change == "not_yet":
        token = gate.token(iat=now + amount, nbf=now + amount, exp=now + amount + 900)
    elif change == "issuer":
        token = gate.token(iss=f"someone-else-{amount}")
    elif change == "audience":
        token = gate.token(aud=[f"svc-{amount}"])
    else:
        head, body, signature = gate.token().split(".")
        header = json.loads(base64.urlsafe_b64decode(head + "=="))
        if change == "typ":
            header["typ"] = "JWT"
        elif change == "alg_none":
            header["alg"], signature = "none", ""
        else:
            header["kid"] = f"kid-{amount}"
        token = f"{b64json(header)}.{body}.{signature}"
    with pytest.raises(Unauthorized):
        await gate.verifier.check(token)
    assert_invalid_token(await gate.send("/api/v1/tasks", f"Bearer {token}".encode()))
