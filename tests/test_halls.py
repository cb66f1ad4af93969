"""City and county halls through the gateway (issue 19): a county hall made by the admin, a clerk
of each hall, an application accepted at each; supervision's cards and the satisfaction figures
read per hall and by hall show each hall its own."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.e2e import PDF, Caller, accept, admin, approve, citizen, new_item, staff, status_is, wait_for
from tests.harness import ADMIN_PASSWORD, Platform

pytestmark = [pytest.mark.stack, pytest.mark.xdist_group("stack")]


def _apply_and_submit(me: Caller, item: str, **body: Any) -> dict[str, Any]:
    app: dict[str, Any] = me.call(
        "POST", "/api/v1/applications", 201, json={"item_code": item, "delivery": {"method": "window"}} | body
    )
    no = app["application_no"]
    me.call(
        "PUT", f"/api/v1/applications/{no}/materials/M1", (200, 201), files={"file": ("M1.pdf", PDF, "application/pdf")}
    )
    me.call("POST", f"/api/v1/applications/{no}/submit", (200, 201, 202))
    return app


def _rate(me: Caller, no: str, score: int) -> Any:
    def rated() -> Any:
        r = me.http.post(
            "/api/v1/ratings",
            json={"application_no": no, "score": score},
            headers={"Authorization": f"Bearer {me.token}"},
        )
        return r.json() if r.status_code == 201 else None

    return wait_for("the rating is taken once rating has seen the decision", rated, 30)


def test_two_halls_each_see_their_own(platform: Platform) -> None:
    url = platform.url
    root = admin(url, ADMIN_PASSWORD)
    halls = root.call("GET", "/api/v1/halls", 200, params={"limit": 100})["items"]
    city = next(h for h in halls if h["code"] == "CITY")
    assert city["level"] == "city"
    county = "H" + uuid.uuid4().hex[:7].upper()
    made = root.call(
        "POST",
        "/api/v1/halls",
        201,
        json={
            "code": county,
            "name": "测试县政务服务中心",
            "level": "county",
            "region_code": city["region_code"][:4] + "82000000",
        },
    )
    assert made["code"] == county and made["level"] == "county"
    root.call("POST", "/api/v1/halls", 409, json=made)
    assert county in {h["code"] for h in Caller(url).call("GET", "/api/v1/halls", 200, params={"limit": 100})["items"]}

    dept = "HALL" + uuid.uuid4().hex[:5].upper()
    # One working day: the task's clock is yellow at once, so each hall gets a card.
    item = new_item(root, department=dept, committed_days=1)
    county_clerk = staff(url, root, "clerk", hall=county)
    city_clerk = staff(url, root, "clerk")
    assert county_clerk.call("GET", "/api/v1/auth/me", 200)["hall"] == county
    assert city_clerk.call("GET", "/api/v1/auth/me", 200)["hall"] == "CITY"
    approver = staff(url, root, "approver", dept)
    supervisor = staff(url, root, "supervisor")
    me, number = citizen(url, clerk=city_clerk)

    # At the county's window a clerk's application is the county's; online it is the one named.
    walk_in = county_clerk.call(
        "POST",
        "/api/v1/applications",
        201,
        json={"item_code": item, "applicant_id_number": number, "applicant_name": "测试居民"},
    )
    assert walk_in["hall"] == county
    at_county = _apply_and_submit(me, item, hall=county)
    at_city = _apply_and_submit(me, item)
    assert (at_county["hall"], at_city["hall"]) == (county, "CITY")
    accept(county_clerk, at_county["application_no"])
    accept(city_clerk, at_city["application_no"])
    assert me.call("GET", f"/api/v1/applications/{at_county['application_no']}", 200)["accepted_hall"] == county
    assert me.call("GET", f"/api/v1/applications/{at_city['application_no']}", 200)["accepted_hall"] == "CITY"
    mine = {at_county["application_no"]: county, at_city["application_no"]: "CITY"}

    # Supervision: each hall's cards are its own.
    def carded(hall: str) -> Any:
        def check() -> Any:
            cards = supervisor.call("GET", "/api/v1/supervision/cards", 200, params={"hall": hall, "limit": 200})
            return [c for c in cards["items"] if c["application_no"] in mine] or None

        return check

    county_cards = wait_for("the county's card", carded(county), 30)
    city_cards = wait_for("the city's card", carded("CITY"), 30)
    assert {c["application_no"] for c in county_cards} == {at_county["application_no"]}
    assert {c["application_no"] for c in city_cards} == {at_city["application_no"]}
    assert {c["hall"] for c in county_cards} == {county}
    summary = supervisor.call("GET", "/api/v1/supervision/summary", 200, params={"by": "hall"})
    by_hall = {d["hall"]: d for d in summary["departments"]}
    assert by_hall[county]["yellow_cards"] + by_hall[county]["red_cards"] >= 1
    one = supervisor.call("GET", "/api/v1/supervision/summary", 200, params={"hall": county})
    assert {d["department"] for d in one["departments"]} == {dept}
    county_tasks = approver.call("GET", "/api/v1/tasks", 200, params={"hall": county, "limit": 200})["items"]
    assert {t["application_no"] for t in county_tasks} == {at_county["application_no"]}

    # Decided, then rated: a good review at the county, a bad one at the city.
    for no in mine:
        approve(approver, no)
        wait_for("approved", status_is(me, no, "approved", "completed"), 30)
    _rate(me, at_county["application_no"], 5)
    _rate(me, at_city["application_no"], 1)

    anyone = Caller(url)
    stats = "/api/v1/ratings/stats"
    county_stats = anyone.call("GET", stats, 200, params={"hall": county})
    assert [(i["key"], i["count"], i["satisfied"]) for i in county_stats["items"]] == [(dept, 1, 1)]
    city_stats = {i["key"]: i for i in anyone.call("GET", stats, 200, params={"hall": "CITY"})["items"]}
    assert (city_stats[dept]["count"], city_stats[dept]["bad_reviews"]) == (1, 1)
    grouped = {i["key"]: i for i in anyone.call("GET", stats, 200, params={"by": "hall"})["items"]}
    assert (grouped[county]["count"], grouped[county]["satisfied"]) == (1, 1)
    assert grouped["CITY"]["count"] >= 1
    # Without a hall: every hall's ratings of the department together, as before halls.
    together = {i["key"]: i for i in anyone.call("GET", stats, 200, params={"by": "department"})["items"]}
    assert together[dept]["count"] == 2
