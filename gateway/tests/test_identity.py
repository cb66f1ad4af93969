"""Identity: registration by the one number, login, throttling and locking, staff, roles."""

from __future__ import annotations

import pytest

from gateway.tests.support import ADMIN_PASSWORD, PASSWORD, Stack, bearer, credit_code, resident_id


def _registration(number: str) -> dict[str, str]:
    return {"id_number": number, "name": "张三", "password": PASSWORD, "phone": "13800000000"}


async def test_register_person_and_enterprise(stack: Stack) -> None:
    person = resident_id()
    r = await stack.client.post(
        "/api/v1/auth/register",
        json={"id_number": person, "name": "张三", "password": PASSWORD, "phone": "13800000000"},
    )
    assert r.status_code == 201 and r.json()["kind"] == "person" and r.json()["subject_id"]

    company = credit_code()
    r = await stack.client.post(
        "/api/v1/auth/register",
        json={"id_number": company, "name": "烟台某公司", "password": PASSWORD, "phone": "0535-6688888"},
    )
    assert r.status_code == 201 and r.json()["kind"] == "enterprise"

    # a lower-case check character is the same number, and already taken
    lower = person[:-1] + person[-1].lower()
    again = await stack.client.post(
        "/api/v1/auth/register", json={"id_number": lower, "name": "张三", "password": PASSWORD, "phone": "13800000000"}
    )
    assert again.status_code == 409 and again.headers["content-type"] == "application/problem+json"


def _bad_check(number: str, alphabet: str) -> str:
    return number[:-1] + next(c for c in alphabet if c != number[-1])


@pytest.mark.parametrize(
    "number",
    [
        _bad_check(resident_id(), "0123456789X"),  # wrong MOD 11-2 check digit
        "370602199002300012",  # 30 February
        "999999199001010010",  # no such region
        "37060219900101001",  # 17 characters
        _bad_check(credit_code(), "0123456789ABCDEFGHJKLMNPQRTUWXY"),  # wrong MOD 31 check character
        "91370602MA3CIOSZ1X",  # I, O, S, Z are not in the code's alphabet
        "not a number at all",
        "",
    ],
    # Fixed ids: two of the numbers are made at random, and xdist workers must collect the same names.
    ids=["ric-check", "ric-date", "ric-region", "ric-length", "uscc-check", "uscc-alphabet", "text", "empty"],
)
async def test_register_refuses_invalid_numbers(stack: Stack, number: str) -> None:
    r = await stack.client.post(
        "/api/v1/auth/register",
        json={"id_number": number, "name": "某人", "password": PASSWORD, "phone": "13800000000"},
    )
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["errors"][0]["field"] == "body.id_number"


async def test_malformed_bodies_are_problems_not_500(stack: Stack) -> None:
    r = await stack.client.post(
        "/api/v1/auth/register", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 422 and r.json()["status"] == 422
    r = await stack.client.post("/api/v1/auth/register", json={"id_number": resident_id(), "password": "short"})
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["errors"]} >= {"body.name", "body.password", "body.phone"}
    r = await stack.client.post("/api/v1/auth/login", json=["account"])
    assert r.status_code == 422
    r = await stack.client.get("/api/v1/nothing-here")
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"


async def test_login_me_and_wrong_password(stack: Stack) -> None:
    number = await stack.register()
    tokens = await stack.login(number)
    assert tokens["token_type"] == "bearer" and tokens["expires_in"] == stack.settings.access_token_ttl_seconds
    me = await stack.client.get("/api/v1/auth/me", headers=bearer(tokens["access_token"]))
    assert me.status_code == 200
    assert me.json() | {"subject_id": None} == {
        "subject_id": None,
        "kind": "person",
        "name": "测试居民",
        "roles": [],
        "department": None,
        "id_number": number,
        "username": None,
        "phone": "13800000000",
    }
    wrong = await stack.client.post("/api/v1/auth/login", json={"account": number, "password": "not-it-at-all"})
    assert wrong.status_code == 401 and wrong.headers["content-type"] == "application/problem+json"
    nobody = await stack.client.post("/api/v1/auth/login", json={"account": resident_id(), "password": PASSWORD})
    assert nobody.status_code == 401
    assert (await stack.client.get("/api/v1/auth/me")).status_code == 401


async def test_account_locks_after_repeated_failures(stack: Stack) -> None:
    number = await stack.register()
    for _ in range(stack.settings.login_max_failures - 1):
        r = await stack.client.post("/api/v1/auth/login", json={"account": number, "password": "wrong-password"})
        assert r.status_code == 401
    r = await stack.client.post("/api/v1/auth/login", json={"account": number, "password": "wrong-password"})
    assert r.status_code == 429 and r.json()["locked"] is True and "locked" in r.json()["detail"]
    assert int(r.headers["retry-after"]) > 0
    # even the right password waits until the lock ends
    r = await stack.client.post("/api/v1/auth/login", json={"account": number, "password": PASSWORD})
    assert r.status_code == 429 and "locked" in r.json()["detail"]


async def test_admin_creates_staff_and_roles_are_enforced(stack: Stack) -> None:
    admin = await stack.admin()
    body = {"username": "approver_zhang", "password": PASSWORD, "name": "张审批", "roles": ["approver"]}
    missing_dept = await stack.client.post("/api/v1/admin/staff", json=body, headers=bearer(admin))
    assert missing_dept.status_code == 422
    bad_role = await stack.client.post(
        "/api/v1/admin/staff", json=body | {"roles": ["emperor"], "department": "MARKET"}, headers=bearer(admin)
    )
    assert bad_role.status_code == 422
    created = await stack.client.post(
        "/api/v1/admin/staff", json=body | {"department": "MARKET"}, headers=bearer(admin)
    )
    assert created.status_code == 201
    assert created.json()["roles"] == ["approver"] and created.json()["department"] == "MARKET"
    again = await stack.client.post("/api/v1/admin/staff", json=body | {"department": "MARKET"}, headers=bearer(admin))
    assert again.status_code == 409

    token = (await stack.login("approver_zhang"))["access_token"]
    me = (await stack.client.get("/api/v1/auth/me", headers=bearer(token))).json()
    assert me["kind"] == "staff" and me["roles"] == ["approver"] and me["department"] == "MARKET"
    assert me["username"] == "approver_zhang"

    # a citizen and a non-admin staff member may not create staff (403); nobody anonymous (401)
    _, citizen = await stack.citizen()
    for who in (citizen["access_token"], token):
        r = await stack.client.post(
            "/api/v1/admin/staff", json=body | {"username": "x_other", "department": "M"}, headers=bearer(who)
        )
        assert r.status_code == 403
    assert (await stack.client.post("/api/v1/admin/staff", json=body)).status_code == 401
    listing = await stack.client.get("/api/v1/admin/staff", params={"limit": 1}, headers=bearer(admin))
    assert listing.status_code == 200 and len(listing.json()["items"]) == 1 and listing.json()["next_cursor"]
    page2 = await stack.client.get(
        "/api/v1/admin/staff", params={"limit": 1, "cursor": listing.json()["next_cursor"]}, headers=bearer(admin)
    )
    assert page2.json()["items"][0]["username"] > listing.json()["items"][0]["username"]


async def test_admin_comes_from_settings(stack: Stack) -> None:
    tokens = await stack.login("admin", ADMIN_PASSWORD)
    me = (await stack.client.get("/api/v1/auth/me", headers=bearer(tokens["access_token"]))).json()
    assert me["roles"] == ["admin"] and me["kind"] == "staff"
