"""Identity assurance in access tokens (issue 18): the ``assurance`` and ``act`` claims, and the
``VerifiedPrincipal`` dependency every route over records bound to an identity number takes.

A person or enterprise token without the claim is self-declared (fail closed); a value other than
the two the gateway signs, or a malformed actor, is a 401; a self-declared caller of a verified
route is a 403 problem ``identity-not-verified``; staff are not concerned.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from owkernel import IdentityNotVerified, VerifiedPrincipal
from owkernel.auth import ASSURANCES, Actor
from owkernel.errors import Unauthorized, install_problem_handlers
from owtest import SigningKeys

KEYS = SigningKeys()
VERIFIER = KEYS.verifier()
PERSON = "370602199001011234"
ENTERPRISE = "91370600MA3C0QXX1A"
AGENT = {"sub": "u-agent", "idn": "370602199202021236", "name": "王经办"}
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


def enterprise_token(**claims: Any) -> str:
    return KEYS.token(f"e-{ENTERPRISE}", kind="enterprise", id_number=ENTERPRISE, name="某公司", **claims)


async def test_a_person_or_enterprise_without_the_claim_is_self_declared() -> None:
    person = await VERIFIER.verify(KEYS.token(f"u-{PERSON}", kind="person", id_number=PERSON))
    assert person.assurance == "self_declared" and not person.is_verified
    assert (await VERIFIER.verify(enterprise_token(assurance=None))).assurance == "self_declared"
    assert (await VERIFIER.verify(KEYS.self_declared(PERSON))).assurance == "self_declared"
    verified = await VERIFIER.verify(KEYS.citizen(PERSON))
    assert verified.assurance == "verified" and verified.is_verified


async def test_staff_carry_no_assurance_whatever_the_token_says() -> None:
    staff = await VERIFIER.verify(KEYS.staff("clerk1", "clerk"))
    assert staff.assurance is None and not staff.is_verified
    claimed = KEYS.token("s-x", kind="staff", roles=["clerk"], username="x", assurance="self_declared")
    assert (await VERIFIER.verify(claimed)).assurance is None


@settings(max_examples=100, deadline=None)
@given(value=JSON, kind=st.sampled_from(["person", "enterprise"]))
async def test_any_other_assurance_is_a_401(value: Any, kind: str) -> None:
    assume(value is not None and value not in ASSURANCES)
    with pytest.raises(Unauthorized) as caught:
        await VERIFIER.verify(KEYS.token("u-1", kind=kind, id_number=PERSON, assurance=value))
    assert caught.value.detail == "The token's assurance is malformed."


async def test_an_act_as_token_names_the_agent_and_displays_both() -> None:
    principal = await VERIFIER.verify(enterprise_token(assurance="verified", act=AGENT))
    assert principal.actor == Actor(subject_id="u-agent", id_number=AGENT["idn"], name="王经办")
    assert principal.is_verified and principal.id_number == ENTERPRISE
    assert principal.display == f"{AGENT['idn']} for {ENTERPRISE}"
    bare = await VERIFIER.verify(enterprise_token(assurance="verified", act={"sub": "u-agent"}))
    assert bare.actor == Actor(subject_id="u-agent") and bare.display == f"u-agent for {ENTERPRISE}"
    own = await VERIFIER.verify(enterprise_token(assurance="verified"))
    assert own.actor is None and own.display == ENTERPRISE


@pytest.mark.parametrize(
    "act",
    [
        "u-agent",
        ["u-agent"],
        1,
        {},
        {"sub": ""},
        {"sub": 7},
        {"idn": AGENT["idn"]},
        {"sub": "u-agent", "idn": 370602199202021236},
        {"sub": "u-agent", "name": ["王经办"]},
    ],
)
async def test_a_malformed_actor_is_a_401(act: Any) -> None:
    with pytest.raises(Unauthorized) as caught:
        await VERIFIER.verify(enterprise_token(assurance="verified", act=act))
    assert caught.value.detail == "The token's actor is malformed."


# --- the dependency, through an app ------------------------------------------------------------

app = FastAPI()
install_problem_handlers(app)
app.state.verifier = VERIFIER


@app.get("/records")
async def records(principal: VerifiedPrincipal) -> dict[str, Any]:
    return {"who": principal.display}


async def call(token: str | None) -> httpx.Response:
    headers = {} if token is None else {"authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        return await client.get("/records", headers=headers)


@pytest.mark.parametrize(
    "token",
    [
        KEYS.self_declared(PERSON),
        KEYS.token(f"u-{PERSON}", kind="person", id_number=PERSON),
        enterprise_token(),
        enterprise_token(assurance="self_declared", act=AGENT),
    ],
    # Named ids: each xdist worker signs its own tokens, and ids made of them differ between the
    # workers' collections, which xdist refuses.
    ids=["self-declared-person", "person-no-assurance-claim", "enterprise-no-assurance-claim", "self-declared-agent"],
)
async def test_a_self_declared_caller_is_refused_with_identity_not_verified(token: str) -> None:
    response = await call(token)
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == "urn:onewindow:problem:identity-not-verified" == IdentityNotVerified.TYPE
    assert body["title"] == "Identity not verified"
    assert body["detail"] == "Prove your identity through the province's unified login or at a window first."


async def test_verified_callers_and_staff_pass_and_no_token_is_a_401() -> None:
    assert (await call(KEYS.citizen(PERSON))).json() == {"who": PERSON}
    assert (await call(enterprise_token(assurance="verified", act=AGENT))).json() == {
        "who": f"{AGENT['idn']} for {ENTERPRISE}"
    }
    assert (await call(KEYS.staff("clerk1", "clerk"))).json() == {"who": "clerk1"}
    assert (await call(None)).status_code == 401
