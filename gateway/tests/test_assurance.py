"""Identity assurance through the real gateway: self-declared accounts, the squatter losing a number
to its proven holder, window verification and activation codes, enterprise agents acting for it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import httpx
import jwt
from sqlalchemy import update

from gateway.identity import logins, proof
from gateway.identity.models import ActivationCode
from gateway.state import GatewayState
from gateway.tests.harness import PASSWORD, Stack
from gateway.tokens import service as tokens
from owkernel.db import Database
from owtest import bearer, credit_code, resident_id
from tools import seed

NEW_PASSWORD = "Proven-Holder-456!"
NOT_VERIFIED = "urn:onewindow:problem:identity-not-verified"


def _claims(token: str) -> dict[str, Any]:
    # The gateway signed it; what it says is what services read.
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


def _db(stack: Stack) -> Database:
    db: Database = stack.app.state.kernel.db
    return db


def _state(stack: Stack) -> GatewayState:
    state: GatewayState = stack.app.state.kernel.state
    return state


async def _prove(stack: Stack, number: str, name: str, by: Literal["province", "window"]) -> dict[str, Any]:
    """Prove a number straight against the gateway's database and start a login, as the province flow does.

    The province's OpenID Connect login itself (gateway/province/, helper G1's) has its own tests;
    here it only stands behind the enterprise, which cannot be verified at a window.
    """
    state = _state(stack)
    async with _db(stack).transaction() as session:
        account = await proof.prove_identity(session, id_number=number, name=name, by=by, revocations=state.revocations)
        pair = await tokens.start_login(session, account=account, keys=state.keys, settings=state.settings)
    return pair.body()


async def _verify_at_window(stack: Stack, clerk: str, number: str, name: str = "王真") -> str:
    r = await stack.client.post(
        "/api/v1/auth/verifications", json={"id_number": number, "name": name}, headers=bearer(clerk)
    )
    assert r.status_code == 201, r.text
    body = r.json()
    expires_at = datetime.fromisoformat(body["expires_at"])
    assert timedelta(hours=23) < expires_at - datetime.now(UTC) <= timedelta(hours=24, seconds=5)
    code: str = body["activation_code"]
    return code


async def _activate(stack: Stack, number: str, code: str, password: str = NEW_PASSWORD) -> Any:
    return await stack.client.post(
        "/api/v1/auth/activate", json={"id_number": number, "activation_code": code, "password": password}
    )


async def _verified_person(stack: Stack, clerk: str, name: str = "李经办") -> tuple[str, dict[str, Any]]:
    number = resident_id()
    code = await _verify_at_window(stack, clerk, number, name)
    r = await _activate(stack, number, code)
    assert r.status_code == 200, r.text
    return number, r.json()


async def test_register_is_self_declared(stack: Stack) -> None:
    _, pair = await stack.citizen()
    assert _claims(pair["access_token"])["assurance"] == "self_declared"
    me = (await stack.client.get("/api/v1/auth/me", headers=bearer(pair["access_token"]))).json()
    assert (me["assurance"], me["verified_by"], me["acts_for"]) == ("self_declared", None, [])
    # staff are not concerned: no assurance in their tokens or their /me
    staff = await stack.admin()
    assert "assurance" not in _claims(staff)
    assert (await stack.client.get("/api/v1/auth/me", headers=bearer(staff))).json()["assurance"] is None


async def test_squatter_loses_the_number_to_its_holder_verified_at_the_window(stack: Stack) -> None:
    # Someone registers another person's number and logs in.
    number = await stack.register(password=PASSWORD)
    squatter = await stack.login(number)
    assert (await stack.client.get("/api/v1/tasks/echo", headers=bearer(squatter["access_token"]))).status_code == 200

    # The holder shows the ID card at a window.
    clerk = await stack.staff("clerk")
    code = await _verify_at_window(stack, clerk, number, name="王真")

    # The squatter's password, refresh token and access token stop working, everywhere.
    refused = await stack.client.post("/api/v1/auth/login", json={"account": number, "password": PASSWORD})
    wrong = await stack.client.post("/api/v1/auth/login", json={"account": number, "password": "not-the-password"})
    assert refused.status_code == wrong.status_code == 401
    assert refused.json()["detail"] == wrong.json()["detail"]  # no hint that the account has no password
    again = await stack.client.post("/api/v1/auth/refresh", json={"refresh_token": squatter["refresh_token"]})
    assert again.status_code == 401
    old = bearer(squatter["access_token"])
    assert (await stack.client.get("/api/v1/auth/me", headers=old)).status_code == 401
    assert (await stack.client.get("/api/v1/tasks/echo", headers=old)).status_code == 401

    # The holder sets a password with the code and logs in with it.
    activated = await _activate(stack, number, code)
    assert activated.status_code == 200, activated.text
    assert _claims(activated.json()["access_token"])["assurance"] == "verified"
    pair = await stack.login(number, NEW_PASSWORD)
    me = (await stack.client.get("/api/v1/auth/me", headers=bearer(pair["access_token"]))).json()
    assert (me["assurance"], me["verified_by"], me["name"]) == ("verified", "window", "王真")
    # The code worked once.
    assert (await _activate(stack, number, code, "Another-Pass-789!")).status_code == 401
    await stack.login(number, NEW_PASSWORD)


async def test_activation_code_is_attempt_limited_and_expires(stack: Stack) -> None:
    clerk = await stack.staff("clerk")
    number = resident_id()
    code = await _verify_at_window(stack, clerk, number)
    wrong = f"{(int(code) + 1) % 10**8:08d}"
    for _ in range(stack.settings.activation_max_attempts):
        assert (await _activate(stack, number, wrong)).status_code == 401
    # The last wrong code voided it: the right one no longer works.
    voided = await _activate(stack, number, code)
    assert voided.status_code == 401 and voided.json()["code"] == "activation_code_invalid"

    # A new verification gives a new code; the older one is gone.
    first = await _verify_at_window(stack, clerk, number)
    second = await _verify_at_window(stack, clerk, number)
    if first != second:
        assert (await _activate(stack, number, first)).status_code == 401
    # That wrong try counted, the right code still works within the limit.
    assert (await _activate(stack, number, second)).status_code == 200

    # An expired code is refused.
    other = resident_id()
    code = await _verify_at_window(stack, clerk, other)
    async with _db(stack).transaction() as session:
        await session.execute(update(ActivationCode).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    assert (await _activate(stack, other, code)).status_code == 401


async def test_window_verification_is_for_clerks_and_persons(stack: Stack) -> None:
    clerk = await stack.staff("clerk")
    body = {"id_number": credit_code(), "name": "烟台某公司"}
    r = await stack.client.post("/api/v1/auth/verifications", json=body, headers=bearer(clerk))
    assert r.status_code == 422  # an enterprise is verified only through the province
    person = {"id_number": resident_id(), "name": "王真"}
    approver = await stack.staff("approver", department="market")
    _, citizen = await stack.citizen()
    for token in (approver, citizen["access_token"]):
        assert (
            await stack.client.post("/api/v1/auth/verifications", json=person, headers=bearer(token))
        ).status_code == 403


async def test_password_is_set_by_a_verified_holder_only(stack: Stack) -> None:
    _, pair = await stack.citizen()
    r = await stack.client.put(
        "/api/v1/auth/password", json={"password": NEW_PASSWORD}, headers=bearer(pair["access_token"])
    )
    assert r.status_code == 403 and r.json()["type"] == NOT_VERIFIED

    number = resident_id()
    proven = await _prove(stack, number, "赵省", by="province")
    assert (
        await stack.client.post("/api/v1/auth/login", json={"account": number, "password": NEW_PASSWORD})
    ).status_code == 401
    headers = bearer(proven["access_token"])
    assert (
        await stack.client.put("/api/v1/auth/password", json={"password": NEW_PASSWORD}, headers=headers)
    ).status_code == 204
    pair = await stack.login(number, NEW_PASSWORD)
    # Proving it again through the province keeps the password and the logins of a verified account.
    await _prove(stack, number, "赵省", by="province")
    await stack.login(number, NEW_PASSWORD)
    assert (
        await stack.client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    ).status_code == 200
    assert (await stack.client.get("/api/v1/auth/me", headers=bearer(pair["access_token"]))).status_code == 200
    # A check at the window is a reset in person: both end.
    clerk = await stack.staff("clerk")
    await _verify_at_window(stack, clerk, number, "赵省")
    assert (
        await stack.client.post("/api/v1/auth/login", json={"account": number, "password": NEW_PASSWORD})
    ).status_code == 401
    assert (await stack.client.get("/api/v1/auth/me", headers=bearer(pair["access_token"]))).status_code == 401


async def test_agents_act_for_a_verified_enterprise(stack: Stack) -> None:
    clerk = await stack.staff("clerk")
    company = credit_code()
    # Self-declared, the enterprise names nobody.
    await stack.register(company)
    unproven = await stack.login(company)
    r = await stack.client.post(
        "/api/v1/auth/agents", json={"id_number": resident_id()}, headers=bearer(unproven["access_token"])
    )
    assert r.status_code == 403 and r.json()["type"] == NOT_VERIFIED

    enterprise = bearer((await _prove(stack, company, "烟台某公司", by="province"))["access_token"])
    agent_number, agent_pair = await _verified_person(stack, clerk, "李经办")
    agent = bearer(agent_pair["access_token"])
    self_declared_number, self_declared_pair = await stack.citizen()
    self_declared = bearer(self_declared_pair["access_token"])

    # Naming: a verified person only.
    assert (
        await stack.client.post("/api/v1/auth/agents", json={"id_number": self_declared_number}, headers=enterprise)
    ).status_code == 422
    assert (
        await stack.client.post("/api/v1/auth/agents", json={"id_number": resident_id()}, headers=enterprise)
    ).status_code == 404
    assert (
        await stack.client.post("/api/v1/auth/agents", json={"id_number": credit_code()}, headers=enterprise)
    ).status_code == 422
    named = await stack.client.post("/api/v1/auth/agents", json={"id_number": agent_number}, headers=enterprise)
    assert named.status_code == 201 and named.json()["id_number"] == agent_number
    assert (
        await stack.client.post("/api/v1/auth/agents", json={"id_number": agent_number}, headers=enterprise)
    ).status_code == 409
    listed = (await stack.client.get("/api/v1/auth/agents", headers=enterprise)).json()
    assert [a["id_number"] for a in listed["items"]] == [agent_number]
    # A person names no agents; a self-declared one acts for nobody.
    assert (
        await stack.client.post("/api/v1/auth/agents", json={"id_number": agent_number}, headers=agent)
    ).status_code == 403
    r = await stack.client.post("/api/v1/auth/act-as", json={"id_number": company}, headers=self_declared)
    assert r.status_code == 403 and r.json()["type"] == NOT_VERIFIED

    me = (await stack.client.get("/api/v1/auth/me", headers=agent)).json()
    assert me["acts_for"] == [{"id_number": company, "name": "烟台某公司"}]

    # Acting: the enterprise is the subject, the agent is the actor.
    acting = await stack.client.post("/api/v1/auth/act-as", json={"id_number": company}, headers=agent)
    assert acting.status_code == 200, acting.text
    pair = acting.json()
    claims = _claims(pair["access_token"])
    enterprise_id = _claims(enterprise["Authorization"].removeprefix("Bearer "))["sub"]
    agent_id = _claims(agent_pair["access_token"])["sub"]
    assert (claims["sub"], claims["kind"], claims["idn"], claims["assurance"]) == (
        enterprise_id,
        "enterprise",
        company,
        "verified",
    )
    assert claims["act"] == {"sub": agent_id, "idn": agent_number, "name": "李经办"}
    echo = await stack.client.get("/api/v1/tasks/echo", headers=bearer(pair["access_token"]))
    assert echo.status_code == 200 and echo.json()["subject"] == enterprise_id
    me = (await stack.client.get("/api/v1/auth/me", headers=bearer(pair["access_token"]))).json()
    assert me["id_number"] == company and me["actor"]["id_number"] == agent_number
    # An agent acting for it does not manage its agents.
    r = await stack.client.get("/api/v1/auth/agents", headers=bearer(pair["access_token"]))
    assert r.status_code == 403
    # Refreshing keeps acting.
    refreshed = await stack.client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert refreshed.status_code == 200 and _claims(refreshed.json()["access_token"])["act"]["sub"] == agent_id
    pair = refreshed.json()
    # Another verified person is no agent of it.
    _, stranger = await _verified_person(stack, clerk, "路人")
    r = await stack.client.post(
        "/api/v1/auth/act-as", json={"id_number": company}, headers=bearer(stranger["access_token"])
    )
    assert r.status_code == 403

    # Revoking ends the agent's acting, not the agent's own login.
    assert (await stack.client.delete(f"/api/v1/auth/agents/{agent_number}", headers=enterprise)).status_code == 204
    assert (
        await stack.client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    ).status_code == 401
    revoked = bearer(pair["access_token"])
    assert (await stack.client.get("/api/v1/auth/me", headers=revoked)).status_code == 401
    assert (await stack.client.get("/api/v1/tasks/echo", headers=revoked)).status_code == 401
    assert (await stack.client.get("/api/v1/auth/me", headers=agent)).status_code == 200
    assert (
        await stack.client.post("/api/v1/auth/act-as", json={"id_number": company}, headers=agent)
    ).status_code == 403
    assert (await stack.client.delete(f"/api/v1/auth/agents/{agent_number}", headers=enterprise)).status_code == 404
    assert (await stack.client.get("/api/v1/auth/me", headers=agent)).json()["acts_for"] == []


async def test_a_squatter_login_in_flight_during_the_takeover_gets_nothing(stack: Stack) -> None:
    # The squatter's right password is being checked (Argon2, outside any transaction) when the
    # holder's proof commits: finishing that login must not start a session the takeover missed.
    number = await stack.register()
    state = _state(stack)
    async with _db(stack).transaction() as session:
        candidate = await logins.login_candidate(
            session, account_name=number, address="203.0.113.9", throttle=state.login_throttle, settings=state.settings
        )
    assert candidate.password_hash is not None and await state.passwords.verify(candidate.password_hash, PASSWORD)
    await _prove(stack, number, "王真", by="province")
    async with _db(stack).transaction() as session:
        outcome = await logins.finish_login(
            session,
            candidate=candidate,
            password_ok=True,
            new_hash=None,
            throttle=state.login_throttle,
            keys=state.keys,
            settings=state.settings,
        )
    assert outcome.pair is None


async def test_a_window_reset_of_an_agent_ends_its_acting(stack: Stack) -> None:
    clerk = await stack.staff("clerk")
    company = credit_code()
    enterprise = bearer((await _prove(stack, company, "烟台某公司", by="province"))["access_token"])
    agent_number, agent_pair = await _verified_person(stack, clerk, "李经办")
    named = await stack.client.post("/api/v1/auth/agents", json={"id_number": agent_number}, headers=enterprise)
    assert named.status_code == 201
    acting = (
        await stack.client.post(
            "/api/v1/auth/act-as", json={"id_number": company}, headers=bearer(agent_pair["access_token"])
        )
    ).json()
    await _verify_at_window(stack, clerk, agent_number, "李经办")
    r = await stack.client.post("/api/v1/auth/refresh", json={"refresh_token": acting["refresh_token"]})
    assert r.status_code == 401
    assert (await stack.client.get("/api/v1/auth/me", headers=bearer(acting["access_token"]))).status_code == 401


async def test_seed_verifies_the_demo_citizen_at_the_window(stack: Stack) -> None:
    admin = bearer(await stack.admin())
    clerk = {"username": "clerk", "password": seed.DEMO_PASSWORD, "name": "clerk", "roles": ["clerk"]}
    assert (await stack.client.post("/api/v1/admin/staff", json=clerk, headers=admin)).status_code == 201
    citizen, company = seed.demo_resident_id(), seed.demo_credit_code()
    await stack.register(citizen, password=seed.DEMO_PASSWORD)

    def walk() -> tuple[bool, bool, bool]:
        with httpx.Client(base_url=stack.gateway_url, timeout=15.0, trust_env=False) as client:
            before = seed._verified(client, citizen)
            seed._verify_at_window(client, citizen, "张三")
            # This stack has no province provider: the enterprise is left self-declared.
            return before, seed._verified(client, citizen), seed._verify_through_province(client, company, "某公司")

    assert await asyncio.to_thread(walk) == (False, True, False)
    me = (
        await stack.client.get(
            "/api/v1/auth/me", headers=bearer((await stack.login(citizen, seed.DEMO_PASSWORD))["access_token"])
        )
    ).json()
    assert (me["assurance"], me["verified_by"]) == ("verified", "window")
