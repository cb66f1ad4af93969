"""City and county halls (issue 19): kiosks, ratings and inspections belong to a hall; the figures,
inspections and the monthly assessment read per hall and by hall, and read as before without."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from owkernel.contracts.rating import InspectionRecorded, ReviewSubmitted
from owtest import eventually
from services.rating.tests.harness import (
    Client,
    Feeder,
    accepted,
    approved,
    assert_figures_consistent,
    idn,
    unique,
    wait_decided,
    yesterday,
)

COUNTY = "ZHANGDIAN"


async def _decided_at(rating: Client, feeder: Feeder, hall: str | None) -> tuple[str, str]:
    """An application accepted at ``hall`` (None: an intake older than halls) and approved."""
    no, applicant = unique("APP"), idn()
    event = accepted(no, id_number=applicant, department="D-HALLS")
    await feeder.publish(event.model_copy(update={"hall": hall}) if hall else event)
    await feeder.publish(approved(no, department="D-HALLS"))
    await wait_decided(rating, no)
    return no, applicant


async def test_ratings_count_for_their_hall(rating: Client, feeder: Feeder) -> None:
    county_no, county_applicant = await _decided_at(rating, feeder, COUNTY)
    city_no, city_applicant = await _decided_at(rating, feeder, None)
    for no, applicant, score in ((county_no, county_applicant, 5), (city_no, city_applicant, 1)):
        r = await rating.http.post(
            "/api/v1/ratings", json={"application_no": no, "score": score}, headers=rating.citizen(applicant)
        )
        assert r.status_code == 201, r.text
    # A county kiosk's vote is the county's.
    r = await rating.http.post(
        "/api/v1/kiosks", json={"window": "general", "department": "D-HALLS", "hall": COUNTY}, headers=rating.admin
    )
    assert r.status_code == 201 and r.json()["hall"] == COUNTY, r.text
    vote = await rating.http.post(
        "/api/v1/kiosk/ratings",
        json={"window": "general", "score": 4},
        headers={"X-Device-Key": r.json()["device_key"]},
    )
    assert vote.status_code == 201, vote.text
    listed = (await rating.http.get("/api/v1/kiosks", headers=rating.admin)).json()["items"]
    assert {k["hall"] for k in listed} == {COUNTY}
    bad = await rating.http.post(
        "/api/v1/kiosks", json={"window": "general", "hall": "zhang dian"}, headers=rating.admin
    )
    assert bad.status_code == 422

    # Both reviews' events, each naming its hall (the first alone may be out before the second).
    async def halls_named() -> bool:
        submitted = await feeder.published("rating.review.submitted")
        halls = {(e.application_no, e.hall) for e in submitted if isinstance(e, ReviewSubmitted)}
        return {(county_no, COUNTY), (city_no, "CITY")} <= halls

    await eventually(halls_named)

    stats = "/api/v1/ratings/stats"
    by_hall = (await rating.http.get(stats, params={"by": "hall"})).json()
    counts = {i["key"]: i["count"] for i in by_hall["items"]}
    assert counts == {"CITY": 1, COUNTY: 2}
    county = (await rating.http.get(stats, params={"hall": COUNTY})).json()
    assert [(i["key"], i["count"]) for i in county["items"]] == [("D-HALLS", 2)]
    assert county["total"]["satisfied"] == 2 and county["total"]["bad_reviews"] == 0
    city = (await rating.http.get(stats, params={"hall": "CITY", "by": "hall"})).json()
    assert [(i["key"], i["count"]) for i in city["items"]] == [("CITY", 1)]
    # Without a hall, the figures are every hall's together, as before.
    plain = (await rating.http.get(stats)).json()
    assert [(i["key"], i["count"]) for i in plain["items"]] == [("D-HALLS", 3)]
    assert (await rating.http.get(stats, params={"hall": "no hall"})).status_code == 422
    await assert_figures_consistent(rating)


async def test_inspections_and_the_assessment_per_hall(rating: Client, feeder: Feeder) -> None:
    on = yesterday().isoformat()
    body: dict[str, Any] = {
        "department": "D-INSP-H",
        "window": "general",
        "problem": "窗口人员离岗",
        "penalty_points": 3,
        "inspected_on": on,
    }
    county = await rating.http.post("/api/v1/inspections", json=body | {"hall": COUNTY}, headers=rating.supervisor)
    assert county.status_code == 201 and county.json()["hall"] == COUNTY, county.text
    city = await rating.http.post("/api/v1/inspections", json=body, headers=rating.supervisor)
    assert city.status_code == 201 and city.json()["hall"] == "CITY", city.text
    found = await rating.http.get("/api/v1/inspections", params={"hall": COUNTY})
    assert [i["inspection_id"] for i in found.json()["items"]] == [county.json()["inspection_id"]]
    both = await rating.http.get("/api/v1/inspections", params={"department": "D-INSP-H"})
    assert len(both.json()["items"]) == 2
    recorded = await feeder.wait_published(
        "rating.inspection.recorded", lambda e: e.inspection_id == county.json()["inspection_id"]
    )
    assert isinstance(recorded[0], InspectionRecorded) and recorded[0].hall == COUNTY

    month = (datetime.now(UTC) + timedelta(hours=8) - timedelta(days=1)).strftime("%Y-%m")
    r = await rating.http.post("/api/v1/assessments", json={"month": month}, headers=rating.supervisor)
    assert r.status_code == 201, r.text
    # The same department is scored in each hall on its own findings.
    dept = {i["hall"]: i for i in r.json()["items"] if i["scope"] == "department" and i["key"] == "D-INSP-H"}
    assert set(dept) == {"CITY", COUNTY}
    assert all(i["score"] == 97.0 for i in dept.values())
    assert "hall" not in {i["scope"] for i in r.json()["items"]}
    # Each hall as a whole, in its own list and by=hall.
    assert {h["key"] for h in r.json()["halls"]} >= {"CITY", COUNTY}
    assert all(h["scope"] == "hall" and h["hall"] == h["key"] for h in r.json()["halls"])
    by_hall = (await rating.http.get("/api/v1/assessments", params={"month": month, "by": "hall"})).json()
    assert {h["key"] for h in by_hall["items"]} == {h["key"] for h in r.json()["halls"]}
    one = await rating.http.get("/api/v1/assessments", params={"month": month, "hall": COUNTY, "scope": "department"})
    assert {(i["hall"], i["key"]) for i in one.json()["items"]} >= {(COUNTY, "D-INSP-H")}
    assert {i["hall"] for i in one.json()["items"]} == {COUNTY}
    got = await rating.http.get(f"/api/v1/assessments/{month}/department/D-INSP-H", params={"hall": COUNTY})
    assert got.status_code == 200 and got.json()["hall"] == COUNTY
    hall_row = await rating.http.get(f"/api/v1/assessments/{month}/hall/{COUNTY}")
    assert hall_row.status_code == 200 and hall_row.json()["scope"] == "hall"

    # The department's assessment in both halls (one hall's event alone may be out first).
    async def both_halls() -> bool:
        published = await feeder.published("rating.assessment.published")
        return {e.hall for e in published if e.month == month and e.key == "D-INSP-H"} >= {"CITY", COUNTY}

    await eventually(both_halls)
