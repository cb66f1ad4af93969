"""Property tests of access-token parsing: ``TokenVerifier.verify`` and ``bearer_token``.

A token the gateway's key signed with valid claims verifies to exactly the principal it names;
anything else (a changed character, a wrong ``typ`` or ``alg``, bad times, issuer or audience,
arbitrary text) raises ``Unauthorized``, which the problem handlers answer as a 401
problem+json, and never another exception (a 500).
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import json
import time
import uuid
from datetime import timedelta
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from starlette.requests import Request

from owkernel.auth import ACCESS_TYP, ASSURANCES, ROLES, Actor, CurrentPrincipal, Principal, TokenVerifier, bearer_token
from owkernel.errors import Unauthorized, install_problem_handlers
from owtest import SigningKeys

KEYS = SigningKeys()  # this module's own: rotating it touches no other test
VERIFIER = KEYS.verifier()
ROTATED = SigningKeys()
OLD_KID = ROTATED.current
NEW_KID = ROTATED.rotate()  # the old key stays published, as after a gateway key rotation
ROTATED_VERIFIER = ROTATED.verifier()
LEEWAY = 5
MARGIN = LEEWAY + 5  # clear of the leeway however long an example takes
REQUIRED = ("iss", "aud", "sub", "exp", "iat", "jti")
BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

# --- strategies --------------------------------------------------------------------------------

TEXT = st.text(st.characters(codec="utf-8"), max_size=40)  # no lone surrogates: headers are latin-1 text
optional_text = st.none() | TEXT
principals = st.builds(
    Principal,
    subject_id=st.one_of(
        st.from_regex(r"u-[0-9]{17}[0-9X]", fullmatch=True),
        st.text(st.characters(codec="utf-8"), min_size=1, max_size=40),
    ),
    kind=st.sampled_from(["person", "enterprise", "staff"]),
    roles=st.frozensets(st.one_of(st.sampled_from(ROLES), TEXT), max_size=4),
    department=optional_text,
    name=optional_text,
    id_number=st.none() | st.from_regex(r"[0-9]{17}[0-9X]", fullmatch=True) | TEXT,
    username=optional_text,
    token_id=st.uuids().map(lambda u: u.hex),
    assurance=st.sampled_from(ASSURANCES),
    actor=st.none() | st.builds(Actor, subject_id=TEXT.filter(bool), id_number=optional_text, name=optional_text),
).map(lambda p: dataclasses.replace(p, assurance=None) if p.kind == "staff" else p)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12,
)
EDITS = st.sampled_from(["replace", "insert", "delete"])
TOKEN_CHARS = st.one_of(st.sampled_from(BASE64URL + ".=+/ "), st.characters(codec="utf-8"))


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64json(value: Any) -> str:
    return b64(json.dumps(value, ensure_ascii=False).encode())


def claims_of(principal: Principal, *, ttl: int = 900) -> dict[str, Any]:
    """The claims the gateway signs for ``principal`` (gateway.tokens.service.access_claims)."""
    now = int(time.time())
    return {
        "iss": KEYS.issuer,
        "aud": KEYS.audience,
        "sub": principal.subject_id,
        "iat": now,
        "nbf": now,
        "exp": now + ttl,
        "jti": principal.token_id,
        "sid": uuid.uuid4().hex,
        "kind": principal.kind,
        "roles": sorted(principal.roles),
        "department": principal.department,
        "idn": principal.id_number,
        "name": principal.name,
        "username": principal.username,
        "assurance": principal.assurance,
        "act": act_claim(principal.actor),
    }


def act_claim(actor: Actor | None) -> dict[str, Any] | None:
    """The RFC 8693 ``act`` claim the gateway signs for an agent."""
    if actor is None:
        return None
    return {"sub": actor.subject_id, "idn": actor.id_number, "name": actor.name}


def sign(
    claims: dict[str, Any],
    *,
    header: dict[str, Any] | None = None,
    keys: SigningKeys = KEYS,
    kid: str | None = None,
    key: Ed25519PrivateKey | None = None,
) -> str:
    """An EdDSA token of any claims (even ones ``jwt.encode`` refuses to write, a non-string ``iss``);
    ``header`` may override any header field, ``alg`` included."""
    kid = kid or keys.current
    fields: dict[str, Any] = {"kid": kid, "typ": ACCESS_TYP, **(header or {})}
    payload = json.dumps(claims, ensure_ascii=False).encode()
    return jwt.PyJWS().encode(payload, key or keys.keys[kid], algorithm="EdDSA", headers=fields)


def edit(value: str, how: str, position: int, char: str) -> str:
    """``value`` with one character replaced, inserted or deleted at ``position`` (wrapped)."""
    if how == "insert" or not value:
        at = position % (len(value) + 1)
        return value[:at] + char + value[at:]
    at = position % len(value)
    return value[:at] + (char if how == "replace" else "") + value[at + 1 :]


async def refused(token: str, verifier: TokenVerifier = VERIFIER) -> Unauthorized:
    """The Unauthorized that verifying ``token`` raises (any other exception fails the test)."""
    with pytest.raises(Unauthorized) as caught:
        await verifier.verify(token)
    assert caught.value.status == 401 and caught.value.detail
    return caught.value


# --- a valid token: the same principal ---------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(principal=principals, ttl=st.integers(MARGIN, 86_400))
async def test_a_signed_token_verifies_to_the_principal_it_names(principal: Principal, ttl: int) -> None:
    token = KEYS.token(
        principal.subject_id,
        kind=principal.kind,
        roles=list(principal.roles),
        department=principal.department,
        id_number=principal.id_number,
        name=principal.name,
        username=principal.username,
        ttl=timedelta(seconds=ttl),
        jti=principal.token_id,
        assurance=principal.assurance,
        act=act_claim(principal.actor),
    )
    assert await VERIFIER.verify(token) == principal


@settings(max_examples=100, deadline=None)
@given(principal=principals, kid=st.sampled_from([OLD_KID, NEW_KID]), skew=st.integers(-LEEWAY + 1, LEEWAY - 1))
async def test_both_keys_of_a_rotation_verify_and_the_leeway_holds(principal: Principal, kid: str, skew: int) -> None:
    claims = claims_of(principal)
    claims["iat"] = claims["nbf"] = claims["iat"] + skew  # a gateway clock a little ahead or behind
    assert await ROTATED_VERIFIER.verify(sign(claims, keys=ROTATED, kid=kid)) == principal


# --- any change: Unauthorized ------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(
    principal=principals,
    segment=st.sampled_from([0, 1, 2]),
    edits=st.lists(st.tuples(EDITS, st.integers(min_value=0), TOKEN_CHARS), min_size=1, max_size=2),
)
async def test_a_changed_character_anywhere_is_refused(
    principal: Principal, segment: int, edits: list[tuple[str, int, str]]
) -> None:
    token = sign(claims_of(principal))
    parts = token.split(".")
    for how, position, char in edits:
        parts[segment] = edit(parts[segment], how, position, char)
    changed = ".".join(parts)
    assume(changed != token)
    await refused(changed)


@settings(max_examples=100, deadline=None)
@given(principal=principals, bit=st.integers(0, 511))
async def test_a_flipped_signature_bit_is_refused(principal: Principal, bit: int) -> None:
    head, body, signature = sign(claims_of(principal)).split(".")
    raw = bytearray(base64.urlsafe_b64decode(signature + "=="))
    raw[bit // 8] ^= 1 << (bit % 8)
    await refused(f"{head}.{body}.{b64(bytes(raw))}")


@settings(max_examples=100, deadline=None)
@given(
    principal=principals,
    typ=st.one_of(
        st.sampled_from(["JWT", "jwt", "AT+JWT", "application/at+jwt", "at+jwt ", "rt+jwt", "", "at+JWT"]),
        TEXT,
        JSON,
    ),
)
async def test_a_token_that_is_not_an_access_token_is_refused(principal: Principal, typ: Any) -> None:
    assume(typ != ACCESS_TYP)
    assert (await refused(sign(claims_of(principal), header={"typ": typ}))).detail == "This is not an access token."


@settings(max_examples=100, deadline=None)
@given(
    principal=principals,
    alg=st.sampled_from(
        ["none", "None", "NONE", "HS256", "HS384", "HS512", "RS256", "ES256", "PS256", "eddsa", "Ed25519"]
    ),
    secret=st.sampled_from(["raw", "x", "pem", "jwk", "empty"]),
    signature=st.sampled_from(["hmac", "empty", "original"]),
)
async def test_alg_none_and_hmac_with_the_public_key_are_refused(
    principal: Principal, alg: str, secret: str, signature: str
) -> None:
    """The classic confusions: no signature at all, or an HMAC keyed with the published key."""
    public = KEYS.keys[KEYS.current].public_key()
    jwk = KEYS.jwks()["keys"][-1]
    secrets = {
        "raw": public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw),
        "x": jwk["x"].encode(),
        "pem": public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo),
        "jwk": json.dumps(jwk).encode(),
        "empty": b"",
    }
    signing_input = f"{b64json({'alg': alg, 'typ': ACCESS_TYP, 'kid': KEYS.current})}.{b64json(claims_of(principal))}"
    digest = {"HS384": hashlib.sha384, "HS512": hashlib.sha512}.get(alg, hashlib.sha256)
    mac = hmac.new(secrets[secret], signing_input.encode(), digest).digest()
    original = sign(claims_of(principal)).rsplit(".", 1)[1]
    tail = {"hmac": b64(mac), "empty": "", "original": original}[signature]
    error = await refused(f"{signing_input}.{tail}")
    assert error.detail == "The token's algorithm is not accepted."


@settings(max_examples=100, deadline=None)
@given(principal=principals)
async def test_a_token_naming_the_current_key_but_signed_by_another_is_refused(principal: Principal) -> None:
    forged = sign(claims_of(principal), key=Ed25519PrivateKey.generate())
    assert (await refused(forged)).detail == "The token is not valid."
    unknown_kid = sign(claims_of(principal), key=Ed25519PrivateKey.generate(), kid=uuid.uuid4().hex[:16])
    assert (await refused(unknown_kid)).detail == "The token is signed with an unknown key."


@settings(max_examples=100, deadline=None)
@given(principal=principals, ago=st.integers(MARGIN, 10**9))
async def test_an_expired_token_is_refused(principal: Principal, ago: int) -> None:
    claims = claims_of(principal)
    claims["exp"] = int(time.time()) - ago
    claims["iat"] = claims["nbf"] = min(claims["iat"], claims["exp"] - 60)
    assert (await refused(sign(claims))).detail == "The token has expired."


@settings(max_examples=100, deadline=None)
@given(principal=principals, ahead=st.integers(MARGIN, 10**9), claim=st.sampled_from(["nbf", "iat", "both"]))
async def test_a_token_not_yet_valid_is_refused(principal: Principal, ahead: int, claim: str) -> None:
    claims = claims_of(principal)
    future = int(time.time()) + ahead
    for name in ("nbf", "iat") if claim == "both" else (claim,):
        claims[name] = future
    claims["exp"] = future + 900
    await refused(sign(claims))


@settings(max_examples=100, deadline=None)
@given(principal=principals, issuer=st.one_of(TEXT, JSON))
async def test_another_issuer_is_refused(principal: Principal, issuer: Any) -> None:
    assume(issuer != KEYS.issuer)
    await refused(sign({**claims_of(principal), "iss": issuer}))


@settings(max_examples=100, deadline=None)
@given(principal=principals, audience=st.one_of(TEXT, st.lists(TEXT, max_size=3), JSON))
async def test_another_audience_is_refused(principal: Principal, audience: Any) -> None:
    assume(audience != KEYS.audience and not (isinstance(audience, list) and KEYS.audience in audience))
    await refused(sign({**claims_of(principal), "aud": audience}))


@settings(max_examples=100, deadline=None)
@given(
    principal=principals,
    missing=st.sets(st.sampled_from(REQUIRED), min_size=1),
    kind=st.one_of(st.sampled_from(["person", "enterprise", "staff"]), TEXT, JSON),
    roles=st.one_of(st.lists(TEXT, max_size=3), JSON),
)
async def test_missing_claims_or_a_malformed_subject_are_refused(
    principal: Principal, missing: set[str], kind: Any, roles: Any
) -> None:
    claims = {name: value for name, value in claims_of(principal).items() if name not in missing}
    await refused(sign(claims))
    # Every required claim present: an unknown kind or malformed roles are still refused.
    shaped = {**claims_of(principal), "kind": kind, "roles": roles}
    valid_kind = kind in ("person", "enterprise", "staff")
    valid_roles = not roles or (isinstance(roles, list) and all(isinstance(r, str) for r in roles))
    if valid_kind and valid_roles:
        assert (await VERIFIER.verify(sign(shaped))).kind == kind
    else:
        await refused(sign(shaped))


# --- arbitrary text: Unauthorized --------------------------------------------------------------

SEGMENT = st.text(st.sampled_from(BASE64URL), max_size=120)
HEADERS = st.one_of(
    JSON,
    st.fixed_dictionaries(
        {
            "alg": st.one_of(st.just("EdDSA"), st.sampled_from(["none", "HS256"]), JSON),
            "typ": st.one_of(st.just(ACCESS_TYP), JSON),
            "kid": st.one_of(st.just(KEYS.current), TEXT, JSON),
        },
        optional={"crit": JSON, "b64": st.one_of(st.booleans(), JSON), "jku": TEXT, "x5u": TEXT},
    ),
)
ARBITRARY_TOKENS = st.one_of(
    st.text(st.characters(codec="utf-8"), max_size=300),
    st.from_regex(r"[A-Za-z0-9_\-=+/.]{0,200}", fullmatch=True),
    st.lists(SEGMENT, min_size=0, max_size=6).map(".".join),
    st.tuples(HEADERS, st.one_of(JSON, st.binary(max_size=100)), st.binary(max_size=100)).map(
        lambda t: f"{b64json(t[0])}.{b64(t[1]) if isinstance(t[1], bytes) else b64json(t[1])}.{b64(t[2])}"
    ),
    st.sampled_from(
        [
            "",
            ".",
            "..",
            "...",
            "a.b.c",
            "Bearer",
            "null",
            "eyJ.eyJ.",
            "e30.e30.",
            f"{b64(b'[' * 50_000 + b']' * 50_000)}.e30.AA",  # deep nesting: RecursionError territory
            f"{b64json({'alg': 'EdDSA', 'typ': ACCESS_TYP, 'kid': 'x', 'b64': False})}.e30.AA",
            f"{b64json({'alg': 'EdDSA', 'typ': ACCESS_TYP, 'kid': 'x', 'crit': ['exp']})}.e30.AA",
            "ÿþ.\u00e9\u4e2d.\U0001f600",
        ]
    ),
    st.integers(10_000, 300_000).map(lambda n: "eyJ" + "A" * n + "." + "B" * (n // 2) + ".C"),
    st.integers(1_000, 100_000).map(lambda n: "." * n),
)


@settings(max_examples=200, deadline=None)
@given(token=ARBITRARY_TOKENS)
async def test_arbitrary_text_is_refused(token: str) -> None:
    await refused(token)


# --- the Authorization header ------------------------------------------------------------------


def request_with(authorization: bytes | None) -> Request:
    headers = [] if authorization is None else [(b"authorization", authorization)]
    return Request({"type": "http", "method": "GET", "path": "/", "headers": headers, "query_string": b""})


BEARER_SCHEMES = st.sampled_from(["Bearer", "bearer", "BEARER", "bEaReR"])
SPACES = st.text(st.sampled_from(" \t"), max_size=3)
LATIN1 = st.text(st.characters(codec="latin-1"), max_size=200)


@settings(max_examples=100, deadline=None)
@given(
    scheme=BEARER_SCHEMES, before=SPACES, after=SPACES, token=st.one_of(SEGMENT.filter(bool), LATIN1.filter(str.strip))
)
def test_bearer_token_gives_back_the_token_it_carries(scheme: str, before: str, after: str, token: str) -> None:
    token = token.strip()
    assume(token)
    assert bearer_token(request_with(f"{scheme} {before}{token}{after}".encode("latin-1"))) == token


@settings(max_examples=200, deadline=None)
@given(value=LATIN1)
def test_bearer_token_reads_any_header_as_a_token_none_or_unauthorized(value: str) -> None:
    try:
        token = bearer_token(request_with(value.encode("latin-1")))
    except Unauthorized as exc:
        assert exc.status == 401
        scheme, _, rest = value.partition(" ")
        assert scheme.lower() != "bearer" or not rest.strip()
    else:
        if token is None:
            assert value == ""
        else:
            assert token and token == token.strip() and value.lower().startswith("bearer ")


@settings(max_examples=100, deadline=None)
@given(scheme=st.one_of(st.sampled_from(["Basic", "Token", "JWT", "Bearer:", "Bearer\t", "Bearer\xa0"]), LATIN1))
def test_another_scheme_is_unauthorized(scheme: str) -> None:
    assume(scheme.lower() != "bearer" and " " not in scheme)
    with pytest.raises(Unauthorized):
        bearer_token(request_with(f"{scheme} {KEYS.citizen('370602199001011234')}".encode("latin-1")))
    assert bearer_token(request_with(None)) is None


# --- through an app: 200 with the principal, or a 401 problem+json ------------------------------

app = FastAPI()
install_problem_handlers(app)
app.state.verifier = VERIFIER


@app.get("/me")
async def me(principal: CurrentPrincipal) -> dict[str, Any]:
    return {"sub": principal.subject_id, "roles": sorted(principal.roles)}


@settings(max_examples=100, deadline=None)
@given(
    principal=principals,
    scheme=BEARER_SCHEMES,
    garbage=st.one_of(st.none(), ARBITRARY_TOKENS.filter(lambda t: len(t) < 5000), LATIN1),
    raw=st.one_of(st.none(), st.binary(max_size=200)),
)
async def test_an_app_answers_a_valid_token_with_200_and_anything_else_with_a_401_problem(
    principal: Principal, scheme: str, garbage: str | None, raw: bytes | None
) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        good = await client.get("/me", headers={"authorization": f"{scheme} {sign(claims_of(principal))}"})
        assert good.status_code == 200 and good.json() == {
            "sub": principal.subject_id,
            "roles": sorted(principal.roles),
        }
        value: bytes | None = raw
        if garbage is not None:
            try:
                value = f"{scheme} {garbage}".encode("latin-1")
            except UnicodeEncodeError:
                value = f"{scheme} {garbage}".encode()  # what a client sends; the server reads it as latin-1
        bad = await client.get("/me", headers={} if value is None else {b"authorization": value})
        assert bad.status_code == 401, bad.text
        assert bad.headers["content-type"] == "application/problem+json"
        assert bad.json()["status"] == 401 and bad.json()["detail"]
