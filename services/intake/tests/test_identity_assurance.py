"""Verified identity (issue 18): a self-declared account is refused every record bound to its
number, may still browse and ask; an enterprise's agent is recorded with the enterprise."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx

from owtest import bearer, credit_code, resident_id
from services.intake.tests.harness import MAIL, Hall

NOT_VERIFIED = "urn:onewindow:problem:identity-not-verified"


def refused(r: httpx.Response) -> bool:
    """True for the 403 problem that says the identity is not proven."""
    return (
        r.status_code == 403
        and r.headers["content-type"] == "application/problem+json"
        and r.json()["type"].endswith("identity-not-verified")
    )


def next_tuesday() -> date:
    day = date.today() + timedelta(days=1)
    while day.weekday() != 1:
        day += timedelta(days=1)
    return day


async def test_a_self_declared_person_is_refused_records_but_may_browse_and_ask(hall: Hall) -> None:
    await hall.add_item()
    idn = resident_id()
    squatter = bearer(hall.keys.self_declared(idn, "冒名者"))
    owner = hall.citizen(idn, "王五")
    # A walk-in application the clerk made at the window for this number, and the owner's own booking.
    walk_in = await hall.apply(
        hall.clerk, applicant_id_number=idn, applicant_name="王五", applicant_phone="13900000000"
    )
    no = walk_in["application_no"]
    slot = f"{next_tuesday().isoformat()}T09:00"
    booked = await hall.client.post(
        "/api/v1/appointments", json={"window": "general", "slot": slot, "kind": "regular"}, headers=owner
    )
    assert booked.status_code == 201, booked.text
    appointment = booked.json()["appointment_id"]

    calls: list[tuple[str, str, dict[str, Any]]] = [
        ("GET", "/api/v1/applications", {}),
        ("GET", f"/api/v1/applications/{no}", {}),
        ("POST", "/api/v1/applications", {"json": {"item_code": "T-001", "delivery": MAIL}}),
        ("PUT", f"/api/v1/applications/{no}/materials/M1", {"files": {"file": ("M1.pdf", b"%PDF-1.4 x")}}),
        ("GET", f"/api/v1/applications/{no}/materials/M1", {}),
        ("POST", f"/api/v1/applications/{no}/submit", {}),
        ("DELETE", f"/api/v1/applications/{no}", {}),
        ("GET", "/api/v1/appointments", {}),
        ("GET", f"/api/v1/appointments/{appointment}", {}),
        ("POST", "/api/v1/appointments", {"json": {"window": "general", "slot": slot, "kind": "regular"}}),
        ("DELETE", f"/api/v1/appointments/{appointment}", {}),
        ("GET", "/api/v1/projects", {}),
        ("POST", "/api/v1/projects", {"json": {"name": "x", "investment_fen": 1}}),
    ]
    for method, path, extra in calls:
        r = await hall.client.request(method, path, headers=squatter, **extra)
        assert refused(r), (method, path, r.status_code, r.text)
    body = r.json()
    assert body["title"] == "Identity not verified" and body["type"] == NOT_VERIFIED

    # Browsing and asking stay open to it.
    assert (await hall.client.get("/api/v1/catalog/items", headers=squatter)).status_code == 200
    assert (await hall.client.get("/api/v1/catalog/stats", headers=squatter)).status_code == 200
    slots = await hall.client.get(
        "/api/v1/appointments/slots", params={"window": "general", "date": next_tuesday().isoformat()}, headers=squatter
    )
    assert slots.status_code == 200
    asked = await hall.client.post(
        "/api/v1/consultations", json={"item_code": "T-001", "question": "需要带什么材料？"}, headers=squatter
    )
    assert asked.status_code == 201, asked.text

    # Nothing changed: the verified owner still has the walk-in draft and the booking.
    mine = (await hall.client.get("/api/v1/applications", headers=owner)).json()["items"]
    assert [a["application_no"] for a in mine] == [no]
    assert (await hall.client.get(f"/api/v1/appointments/{appointment}", headers=owner)).json()["status"] == "booked"


async def test_a_self_declared_enterprise_is_refused_its_projects(hall: Hall) -> None:
    await hall.import_demo()
    code = credit_code()
    verified = hall.enterprise(code)
    created = await hall.client.post(
        "/api/v1/projects", json={"name": "烟台港物流园", "investment_fen": 2_790_000_000_00}, headers=verified
    )
    assert created.status_code == 201, created.text
    pno = created.json()["project_no"]
    # A token without the claim is self-declared: the kernel fails closed.
    squatter = bearer(hall.keys.token(f"e-{code}", kind="enterprise", id_number=code, name="冒名公司"))
    assert refused(await hall.client.get(f"/api/v1/projects/{pno}", headers=squatter))
    assert refused(await hall.client.get("/api/v1/projects", headers=squatter))
    assert (await hall.client.get(f"/api/v1/projects/{pno}", headers=verified)).status_code == 200


async def test_an_agent_acting_for_an_enterprise_is_recorded_with_it(hall: Hall) -> None:
    await hall.add_item()
    code, agent = credit_code(), resident_id()
    acting = bearer(
        hall.keys.token(
            f"e-{code}",
            kind="enterprise",
            id_number=code,
            name="烟台示范科技有限公司",
            assurance="verified",
            act={"sub": f"u-{agent}", "idn": agent, "name": "王经办"},
        )
    )
    app = await hall.apply(acting, delivery=MAIL)
    no = app["application_no"]
    assert app["applicant"]["id_number"] == code, "the application is the enterprise's"
    assert (await hall.upload(acting, no, "M1")).status_code == 201
    r = await hall.client.post(f"/api/v1/applications/{no}/submit", headers=acting)
    assert r.status_code == 200, r.text
    steps = {t["event"]: t["detail"] for t in r.json()["timeline"]}
    assert steps["intake.application.created"]["by"] == f"{agent} for {code}"
    assert steps["intake.application.submitted"]["by"] == f"{agent} for {code}"
    # The enterprise itself (no agent) sees the same application.
    own = await hall.view(no, hall.enterprise(code))
    assert own["timeline"][0]["detail"]["by"] == f"{agent} for {code}"
