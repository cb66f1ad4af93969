"""The squatter story of issue 18, end to end through the gateway (docs/api.md, "Identity assurance").

Someone registers a citizen's identity number before the citizen does. The typed-in number proves
nothing: every record bound to it answers 403 identity-not-verified, while browsing still works.
When a clerk checks the real person's ID card at the window, the account is taken over: the
squatter's password, refresh token and live access token stop working, and the real person, after
setting a password with the one-time code, sees the application a clerk made for them at the window.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from owtest import resident_id
from tests.e2e import Caller, admin, new_item, staff
from tests.harness import ADMIN_PASSWORD, Platform

pytestmark = [pytest.mark.stack, pytest.mark.xdist_group("stack")]

SQUATTER_PASSWORD = "Squatter-Pass-1!"


def refused_as_unverified(caller: Caller, method: str, path: str, **kw: Any) -> None:
    """``path`` answers ``caller`` the 403 problem whose type ends in identity-not-verified."""
    body = caller.call(method, path, 403, **kw)
    assert body["type"].endswith("identity-not-verified"), body
    assert body["title"] == "Identity not verified", body


def test_a_squatter_is_refused_then_loses_the_number_to_the_verified_person(platform: Platform) -> None:
    url = platform.url
    root = admin(url, ADMIN_PASSWORD)
    dept = "IDV" + uuid.uuid4().hex[:5].upper()
    item = new_item(root, department=dept, materials=[{"code": "M1", "name": "申请表", "critical": True}])
    clerk = staff(url, root, "clerk")
    real = resident_id()

    # Before anyone registers the number, the real person applies at the window (a walk-in).
    walk_in = clerk.call(
        "POST",
        "/api/v1/applications",
        201,
        json={
            "item_code": item,
            "applicant_id_number": real,
            "applicant_name": "李真",
            "applicant_phone": "13900000000",
            "delivery": {"method": "window"},
        },
    )["application_no"]

    # The squatter registers the number with a password of its own: a self-declared account.
    Caller(url).call(
        "POST",
        "/api/v1/auth/register",
        201,
        json={"id_number": real, "name": "冒名者", "password": SQUATTER_PASSWORD, "phone": "13700000000"},
    )
    login = Caller(url).call("POST", "/api/v1/auth/login", 200, json={"account": real, "password": SQUATTER_PASSWORD})
    squatter = Caller(url, login["access_token"])
    assert squatter.call("GET", "/api/v1/auth/me", 200)["assurance"] == "self_declared"

    # Every record bound to the number is refused: applications, materials, projects, appointments,
    # certificates, shipments, pickups, ratings and rating links.
    refused_as_unverified(squatter, "GET", "/api/v1/applications")
    refused_as_unverified(squatter, "GET", f"/api/v1/applications/{walk_in}")
    refused_as_unverified(squatter, "GET", f"/api/v1/applications/{walk_in}/materials/M1")
    refused_as_unverified(
        squatter, "POST", "/api/v1/applications", json={"item_code": item, "delivery": {"method": "window"}}
    )
    refused_as_unverified(squatter, "GET", "/api/v1/projects")
    refused_as_unverified(squatter, "GET", "/api/v1/appointments")
    refused_as_unverified(squatter, "GET", "/api/v1/certificates/OWC-ANY")
    refused_as_unverified(squatter, "GET", "/api/v1/shipments", params={"application_no": walk_in})
    refused_as_unverified(squatter, "GET", f"/api/v1/delivery/pickups/{walk_in}")
    refused_as_unverified(squatter, "GET", "/api/v1/ratings")
    refused_as_unverified(squatter, "GET", "/api/v1/ratings/links/mine")
    # Browsing and asking stay open.
    assert any(i["code"] == item for i in squatter.call("GET", "/api/v1/catalog/items", 200)["items"])
    squatter.call("POST", "/api/v1/consultations", 201, json={"item_code": item, "question": "要带什么材料？"})

    # The clerk checks the real person's ID card at the window.
    code = clerk.call("POST", "/api/v1/auth/verifications", 201, json={"id_number": real, "name": "李真"})
    assert code["activation_code"] and code["expires_at"]

    # The squatter's live token, refresh token and password stop working.
    squatter.call("GET", "/api/v1/auth/me", 401)
    squatter.call("GET", "/api/v1/catalog/items", 401)
    Caller(url).call("POST", "/api/v1/auth/refresh", 401, json={"refresh_token": login["refresh_token"]})
    Caller(url).call("POST", "/api/v1/auth/login", 401, json={"account": real, "password": SQUATTER_PASSWORD})

    # The real person sets a password with the one-time code and sees the walk-in application.
    pair = Caller(url).call(
        "POST",
        "/api/v1/auth/activate",
        200,
        json={"id_number": real, "activation_code": code["activation_code"], "password": "Real-Person-Pass-1!"},
    )
    me = Caller(url, pair["access_token"])
    account = me.call("GET", "/api/v1/auth/me", 200)
    assert (account["assurance"], account["verified_by"], account["name"]) == ("verified", "window", "李真")
    assert [a["application_no"] for a in me.call("GET", "/api/v1/applications", 200)["items"]] == [walk_in]
    assert me.call("GET", f"/api/v1/applications/{walk_in}", 200)["applicant"]["id_number"] == real
    # The code worked once; the new password logs in, the squatter's still does not.
    Caller(url).call(
        "POST",
        "/api/v1/auth/activate",
        401,
        json={"id_number": real, "activation_code": code["activation_code"], "password": "Another-Pass-1!"},
    )
    Caller(url).login(real, "Real-Person-Pass-1!")
    with httpx.Client(base_url=url, timeout=30.0, trust_env=False) as anyone:
        r = anyone.post("/api/v1/auth/login", json={"account": real, "password": SQUATTER_PASSWORD})
        assert r.status_code == 401 and r.headers["content-type"].startswith("application/problem+json")
