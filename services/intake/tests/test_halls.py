"""City and county halls (市县两级政务服务大厅): the registry, and the hall of applications, slots and items."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from owkernel.contracts.intake import ApplicationAccepted, ApplicationSubmitted, VisitRecorded
from owtest import bearer, resident_id
from services.intake.tests.harness import SIMPLE_ITEM, Hall

COUNTY: dict[str, Any] = {
    "code": "ZHANGDIAN",
    "name": "张店区政务服务中心",
    "level": "county",
    "region_code": "370303000000",
}


def clerk_of(hall: Hall, hall_code: str, username: str = "county_clerk") -> dict[str, str]:
    """A window clerk of the hall ``hall_code``."""
    return bearer(hall.keys.staff(username, "clerk", hall=hall_code))


async def add_county(hall: Hall, **overrides: Any) -> dict[str, Any]:
    """Register the county's hall as the administrator."""
    r = await hall.client.post("/api/v1/halls", json=COUNTY | overrides, headers=hall.admin)
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


async def test_the_city_hall_exists_and_an_admin_adds_a_county(hall: Hall) -> None:
    r = await hall.client.get("/api/v1/halls")
    assert r.status_code == 200, r.text
    assert r.json()["items"] == [
        {"code": "CITY", "name": "市政务服务中心", "level": "city", "region_code": "370300000000"}
    ]
    assert await add_county(hall) == COUNTY
    codes = [h["code"] for h in (await hall.client.get("/api/v1/halls")).json()["items"]]
    assert codes == ["CITY", "ZHANGDIAN"]
    # The same code again is a conflict; a clerk may not register halls; anyone may read them.
    assert (await hall.client.post("/api/v1/halls", json=COUNTY, headers=hall.admin)).status_code == 409
    assert (
        await hall.client.post("/api/v1/halls", json=COUNTY | {"code": "X2"}, headers=hall.clerk)
    ).status_code == 403
    page = await hall.client.get("/api/v1/halls", params={"limit": 1})
    assert [h["code"] for h in page.json()["items"]] == ["CITY"] and page.json()["next_cursor"]
    rest = await hall.client.get("/api/v1/halls", params={"limit": 1, "cursor": page.json()["next_cursor"]})
    assert [h["code"] for h in rest.json()["items"]] == ["ZHANGDIAN"]


async def test_a_hall_serves_a_real_county_of_the_city(hall: Hall) -> None:
    wrong = {
        "3703030": "12 digits",
        "370303001000": "county",  # a township, not a county
        "370603000000": "not in this city",  # Yantai's county, not this city's
        "990303000000": "province",
    }
    for code, why in wrong.items():
        r = await hall.client.post("/api/v1/halls", json=COUNTY | {"region_code": code}, headers=hall.admin)
        assert r.status_code == 422, (why, r.text)
    bad_code = await hall.client.post("/api/v1/halls", json=COUNTY | {"code": "zhang dian"}, headers=hall.admin)
    assert bad_code.status_code == 422
    city = COUNTY | {"code": "CITY2", "level": "city", "region_code": "370303000000"}
    assert (await hall.client.post("/api/v1/halls", json=city, headers=hall.admin)).status_code == 422


async def test_applications_belong_to_a_hall_and_are_accepted_at_the_clerks_hall(hall: Hall) -> None:
    await hall.add_item()
    await add_county(hall)
    county_clerk = clerk_of(hall, "ZHANGDIAN")
    citizen = resident_id()
    # A clerk at a window applies at their own hall; the applicant online at the city's by default.
    at_window = await hall.apply(county_clerk, applicant_id_number=citizen, applicant_name="李四")
    assert at_window["hall"] == "ZHANGDIAN" and at_window["accepted_hall"] is None
    online = await hall.apply(hall.citizen(citizen))
    assert online["hall"] == "CITY"
    named = await hall.apply(hall.citizen(citizen), hall="ZHANGDIAN")
    assert named["hall"] == "ZHANGDIAN"
    # A hall nobody registered is refused.
    r = await hall.client.post(
        "/api/v1/applications", json={"item_code": "T-001", "hall": "NOWHERE"}, headers=hall.citizen(citizen)
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.hall", r.text

    no = await hall.submitted(county_clerk, applicant_id_number=citizen, applicant_name="李四")
    r = await hall.client.post(
        f"/api/v1/applications/{no}/acceptance",
        json={"decision": "accept", "deferred_materials": [], "reason": ""},
        headers=county_clerk,
    )
    assert r.status_code == 200, r.text
    assert r.json()["hall"] == "ZHANGDIAN" and r.json()["accepted_hall"] == "ZHANGDIAN"
    accepted = [d for _, d in await hall.published("intake.application.accepted")]
    assert isinstance(accepted[-1], ApplicationAccepted) and accepted[-1].hall == "ZHANGDIAN"
    submitted = [d for _, d in await hall.published("intake.application.submitted")]
    assert isinstance(submitted[-1], ApplicationSubmitted) and submitted[-1].hall == "ZHANGDIAN"
    visits = [d for _, d in await hall.published("intake.visit.recorded")]
    assert isinstance(visits[-1], VisitRecorded) and visits[-1].hall == "ZHANGDIAN"

    # A clerk whose token names no hall (older than halls) is the city's.
    city_no = await hall.submitted(hall.citizen(citizen))
    assert (await hall.accept(city_no)).json()["accepted_hall"] == "CITY"

    listed = await hall.client.get("/api/v1/applications", params={"hall": "ZHANGDIAN"}, headers=hall.clerk)
    assert {a["application_no"] for a in listed.json()["items"]} == {
        at_window["application_no"],
        named["application_no"],
        no,
    }
    assert all(a["hall"] == "ZHANGDIAN" for a in listed.json()["items"])


async def test_an_item_is_applied_for_only_where_it_is_offered(hall: Hall) -> None:
    await add_county(hall)
    unknown = await hall.client.post(
        "/api/v1/catalog/items", json={**await _item("T-002"), "halls": ["NOWHERE"]}, headers=hall.admin
    )
    assert unknown.status_code == 422, unknown.text
    item = await hall.add_item(code="T-002", halls=["ZHANGDIAN"])
    assert item["halls"] == ["ZHANGDIAN"]
    everywhere = await hall.add_item(code="T-003")
    assert everywhere["halls"] == []
    citizen = hall.citizen(resident_id())
    r = await hall.client.post("/api/v1/applications", json={"item_code": "T-002"}, headers=citizen)
    assert r.status_code == 422 and "not offered" in r.json()["errors"][0]["message"], r.text
    assert (await hall.apply(citizen, "T-002", hall="ZHANGDIAN"))["hall"] == "ZHANGDIAN"
    assert (await hall.apply(citizen, "T-003", hall="ZHANGDIAN"))["hall"] == "ZHANGDIAN"
    # Offering it at the city too is a new version.
    r = await hall.client.put(
        "/api/v1/catalog/items/T-002", json={**await _item("T-002"), "halls": ["ZHANGDIAN", "CITY"]}, headers=hall.admin
    )
    assert r.status_code == 200 and r.json()["halls"] == ["CITY", "ZHANGDIAN"] and r.json()["version"] == 2
    assert (await hall.apply(citizen, "T-002"))["hall"] == "CITY"


async def _item(code: str) -> dict[str, Any]:
    return SIMPLE_ITEM | {"code": code}


def _next_tuesday() -> date:
    day = date.today() + timedelta(days=1)
    while day.weekday() != 1:
        day += timedelta(days=1)
    return day


async def test_slots_are_each_halls_own(hall: Hall) -> None:
    await add_county(hall)
    saturday = _next_tuesday() + timedelta(days=4)
    county_clerk = clerk_of(hall, "ZHANGDIAN")
    opened = {"window": "general", "date": saturday.isoformat(), "start": "09:00", "end": "10:00", "kind": "extended"}
    r = await hall.client.post("/api/v1/appointments/slots", json=opened | {"capacity": 2}, headers=county_clerk)
    assert r.status_code == 201 and r.json()["hall"] == "ZHANGDIAN", r.text
    # The county's Saturday slot is not the city's.
    params = {"window": "general", "date": saturday.isoformat()}
    assert (await hall.client.get("/api/v1/appointments/slots", params=params)).json() == []
    county = await hall.client.get("/api/v1/appointments/slots", params=params | {"hall": "ZHANGDIAN"})
    assert [(s["hall"], s["capacity"]) for s in county.json()] == [("ZHANGDIAN", 2)]
    assert (await hall.client.get("/api/v1/appointments/slots", params=params | {"hall": "NOWHERE"})).status_code == 422
    # A county clerk does not open the city's slots.
    r = await hall.client.post(
        "/api/v1/appointments/slots", json=opened | {"capacity": 2, "hall": "CITY"}, headers=county_clerk
    )
    assert r.status_code == 403
    slot = f"{saturday.isoformat()}T09:00"
    citizen = hall.citizen(resident_id())
    city_try = await hall.client.post(
        "/api/v1/appointments", json={"window": "general", "slot": slot, "kind": "extended"}, headers=citizen
    )
    assert city_try.status_code == 422, city_try.text
    r = await hall.client.post(
        "/api/v1/appointments",
        json={"hall": "ZHANGDIAN", "window": "general", "slot": slot, "kind": "extended"},
        headers=citizen,
    )
    assert r.status_code == 201 and r.json()["hall"] == "ZHANGDIAN", r.text
    listed = await hall.client.get("/api/v1/appointments", params={"hall": "ZHANGDIAN"}, headers=county_clerk)
    assert [a["appointment_id"] for a in listed.json()["items"]] == [r.json()["appointment_id"]]
    assert (await hall.client.get("/api/v1/appointments", params={"hall": "CITY"}, headers=county_clerk)).json()[
        "items"
    ] == []
    # Tuesday's defaults stay the city's answer, unchanged, with their hall.
    tuesday = await hall.client.get(
        "/api/v1/appointments/slots", params={"window": "general", "date": _next_tuesday().isoformat()}
    )
    assert {s["hall"] for s in tuesday.json()} == {"CITY"}
