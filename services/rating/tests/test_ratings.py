"""Online ratings: only the applicant, only once decided, one per application; attribution; privacy."""

from __future__ import annotations

from owtest import eventually
from services.rating.tests.harness import (
    Client,
    Feeder,
    accepted,
    approved,
    decided_application,
    idn,
    unique,
    wait_decided,
)


async def test_one_rating_per_application(rating: Client, feeder: Feeder) -> None:
    no, applicant = await decided_application(rating, feeder, department="D-TAX", window="general", clerk="clerk_zhao")
    me = rating.citizen(applicant)
    first = await rating.http.post(
        "/api/v1/ratings", json={"application_no": no, "score": 5, "comment": "很好"}, headers=me
    )
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["channel"] == "online" and body["score"] == 5
    assert (body["department"], body["window"], body["item_code"]) == ("D-TAX", "general", "ITEM-1")
    assert body["rectification_id"] is None

    second = await rating.http.post("/api/v1/ratings", json={"application_no": no, "score": 1}, headers=me)
    assert second.status_code == 409
    assert second.headers["content-type"] == "application/problem+json"

    # Published for the figures, attributed to the clerk who served.
    events = await feeder.wait_published("rating.review.submitted", lambda e: e.application_no == no)
    assert len(events) == 1
    assert (events[0].channel, events[0].score, events[0].department, events[0].clerk) == (
        "online",
        5,
        "D-TAX",
        "clerk_zhao",
    )


async def test_rating_before_decision_is_refused(rating: Client, feeder: Feeder) -> None:
    no, applicant = unique("APP"), idn()
    await feeder.publish(accepted(no, id_number=applicant))
    me = rating.citizen(applicant)

    async def known() -> bool:
        r = await rating.http.post("/api/v1/ratings", json={"application_no": no, "score": 4}, headers=me)
        assert r.status_code in (404, 409), r.text
        return bool(r.status_code == 409)

    await eventually(known)  # accepted but not decided: 409, never 201
    r = await rating.http.post("/api/v1/ratings", json={"application_no": no, "score": 4}, headers=me)
    assert r.status_code == 409 and "approved or rejected" in r.json()["detail"]
    assert r.json()["code"] == "rating_too_early"

    await feeder.publish(approved(no))
    await wait_decided(rating, no)
    r = await rating.http.post("/api/v1/ratings", json={"application_no": no, "score": 4}, headers=me)
    assert r.status_code == 201


async def test_only_the_applicant_rates(rating: Client, feeder: Feeder) -> None:
    no, _ = await decided_application(rating, feeder)
    other = await rating.http.post(
        "/api/v1/ratings", json={"application_no": no, "score": 5}, headers=rating.citizen(idn())
    )
    assert other.status_code == 403
    clerk = await rating.http.post(
        "/api/v1/ratings", json={"application_no": no, "score": 5}, headers=rating.staff("c1", "clerk")
    )
    assert clerk.status_code == 403
    anonymous = await rating.http.post("/api/v1/ratings", json={"application_no": no, "score": 5})
    assert anonymous.status_code == 401
    unknown = await rating.http.post(
        "/api/v1/ratings", json={"application_no": "NOPE-1", "score": 5}, headers=rating.citizen(idn())
    )
    assert unknown.status_code == 404
    for bad in ({"application_no": no, "score": 0}, {"application_no": no, "score": 6}, {"score": 3}):
        r = await rating.http.post("/api/v1/ratings", json=bad, headers=rating.citizen(idn()))
        assert r.status_code == 422


async def test_decision_overtaking_acceptance_is_applied_in_order(rating: Client, feeder: Feeder) -> None:
    no, applicant = unique("APP"), idn()
    await feeder.publish(approved(no))  # the decision arrives first: parked (RetryLater)
    await feeder.publish(accepted(no, id_number=applicant))
    await wait_decided(rating, no)
    r = await rating.http.post(
        "/api/v1/ratings", json={"application_no": no, "score": 3}, headers=rating.citizen(applicant)
    )
    assert r.status_code == 201


async def test_idempotency_key_replays_the_first_rating(rating: Client, feeder: Feeder) -> None:
    no, applicant = await decided_application(rating, feeder)
    headers = {**rating.citizen(applicant), "Idempotency-Key": "rate-once-" + no}
    body = {"application_no": no, "score": 4, "comment": "ok"}
    first = await rating.http.post("/api/v1/ratings", json=body, headers=headers)
    again = await rating.http.post("/api/v1/ratings", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json()["review_id"] == first.json()["review_id"]
    assert again.headers.get("idempotent-replayed") == "true"


async def test_bad_review_of_a_rejection_is_the_rejecting_departments_case(rating: Client, feeder: Feeder) -> None:
    no, applicant = await decided_application(
        rating, feeder, decision="rejected", department="D-PLAN", departments=["D-PLAN", "D-LAND"], lead="D-PLAN"
    )
    r = await rating.http.post(
        "/api/v1/ratings",
        json={
            "application_no": no,
            "score": 1,
            "comment": "驳回理由不清",
            "indicators": {"overall": 1, "efficiency": 2},
        },
        headers=rating.citizen(applicant),
    )
    assert r.status_code == 201
    assert r.json()["indicators"] == {"overall": 1, "efficiency": 2}
    case_id = r.json()["rectification_id"]
    assert case_id
    case = await rating.http.get(f"/api/v1/rectifications/{case_id}", headers=rating.supervisor)
    assert case.json()["department"] == "D-PLAN" and case.json()["status"] == "open"


async def test_rater_identity_is_never_shown_to_the_staff_rated(rating: Client, feeder: Feeder) -> None:
    no, applicant = await decided_application(rating, feeder, department="D-PRIV")
    r = await rating.http.post(
        "/api/v1/ratings",
        json={"application_no": no, "score": 2, "comment": "态度差"},
        headers=rating.citizen(applicant),
    )
    case_id = r.json()["rectification_id"]

    staff = rating.staff("appr_priv", "approver", department="D-PRIV")
    listing = await rating.http.get("/api/v1/ratings", headers=staff)
    assert listing.status_code == 200
    mine = [i for i in listing.json()["items"] if i["review_id"] == r.json()["review_id"]]
    assert mine and mine[0]["application_no"] is None
    case = await rating.http.get(f"/api/v1/rectifications/{case_id}", headers=staff)
    assert case.status_code == 200 and case.json()["application_no"] is None
    for text in (listing.text, case.text):
        assert applicant not in text and "测试居民" not in text and "13800000000" not in text

    # The applicant sees their own rating; another department's staff see nothing of it.
    own = await rating.http.get("/api/v1/ratings", headers=rating.citizen(applicant))
    assert [i["application_no"] for i in own.json()["items"]] == [no]
    other = await rating.http.get(
        f"/api/v1/rectifications/{case_id}", headers=rating.staff("x", "approver", department="D-X")
    )
    assert other.status_code == 404
