"""Staff belong to a hall (issue 19): kept on the account, in the staff list, /auth/me and the token."""

from __future__ import annotations

from typing import Any

import jwt

from gateway.tests.harness import PASSWORD, Stack
from owtest import bearer


def _claims(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


async def test_a_clerk_of_a_county_hall_carries_the_hall(stack: Stack) -> None:
    admin = bearer(await stack.admin())
    body = {"username": "county_clerk", "password": PASSWORD, "name": "县窗口", "roles": ["clerk"], "hall": "ZHANGDIAN"}
    created = await stack.client.post("/api/v1/admin/staff", json=body, headers=admin)
    assert created.status_code == 201, created.text
    assert created.json()["hall"] == "ZHANGDIAN"
    tokens = await stack.login("county_clerk")
    assert _claims(tokens["access_token"])["hall"] == "ZHANGDIAN"
    me = (await stack.client.get("/api/v1/auth/me", headers=bearer(tokens["access_token"]))).json()
    assert me["hall"] == "ZHANGDIAN"
    listed = (await stack.client.get("/api/v1/admin/staff", headers=admin)).json()["items"]
    assert {s["username"]: s["hall"] for s in listed}["county_clerk"] == "ZHANGDIAN"


async def test_staff_default_to_the_city_hall_and_citizens_have_none(stack: Stack) -> None:
    admin = bearer(await stack.admin())
    body = {"username": "city_clerk", "password": PASSWORD, "name": "市窗口", "roles": ["clerk"]}
    created = await stack.client.post("/api/v1/admin/staff", json=body, headers=admin)
    assert created.status_code == 201 and created.json()["hall"] == "CITY", created.text
    token = (await stack.login("city_clerk"))["access_token"]
    assert _claims(token)["hall"] == "CITY"
    assert (await stack.client.get("/api/v1/auth/me", headers=bearer(token))).json()["hall"] == "CITY"
    # The admin made at start-up is the city's too.
    assert _claims(await stack.admin())["hall"] == "CITY"
    _, citizen = await stack.citizen()
    assert "hall" not in _claims(citizen["access_token"])
    assert (await stack.client.get("/api/v1/auth/me", headers=bearer(citizen["access_token"]))).json()["hall"] is None


async def test_a_hall_code_has_the_registrys_shape(stack: Stack) -> None:
    admin = bearer(await stack.admin())
    for hall in ("zhangdian", "ZHANG DIAN", "", "X" * 21):
        body = {"username": "bad_hall", "password": PASSWORD, "name": "x", "roles": ["clerk"], "hall": hall}
        r = await stack.client.post("/api/v1/admin/staff", json=body, headers=admin)
        assert r.status_code == 422, (hall, r.text)
