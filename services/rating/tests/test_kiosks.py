"""Kiosks: admins register and revoke; a valid key votes, a revoked or unknown one cannot; throttling."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from owkernel.clock import FakeClock
from services.rating.tests.harness import Client, Feeder

INTERVAL = 0.4


@pytest.fixture(scope="module")
def rating_clock() -> FakeClock:
    """The throttle's time moves only when a test advances it."""
    return FakeClock()


@pytest.fixture(scope="module")
def rating_overrides() -> dict[str, Any]:
    return {"kiosk_min_interval_seconds": INTERVAL, "kiosk_max_per_hour": 3}


async def register(rating: Client, window: str = "general", department: str | None = "D-HALL") -> dict[str, Any]:
    r = await rating.http.post(
        "/api/v1/kiosks", json={"window": window, "department": department}, headers=rating.admin
    )
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


async def vote(rating: Client, key: str | None, score: int = 5, window: str = "general") -> Any:
    headers = {"X-Device-Key": key} if key is not None else {}
    return await rating.http.post("/api/v1/kiosk/ratings", json={"window": window, "score": score}, headers=headers)


async def test_only_admins_register_kiosks_and_the_key_is_shown_once(rating: Client) -> None:
    for headers in (rating.supervisor, rating.staff("c", "clerk"), rating.citizen("370602199001010000")):
        r = await rating.http.post("/api/v1/kiosks", json={"window": "general"}, headers=headers)
        assert r.status_code == 403
    assert (await rating.http.post("/api/v1/kiosks", json={"window": "general"})).status_code == 401

    kiosk = await register(rating)
    assert kiosk["kiosk_id"] and kiosk["device_key"].startswith("ks_")
    listing = await rating.http.get("/api/v1/kiosks", headers=rating.admin)
    assert listing.status_code == 200
    assert kiosk["kiosk_id"] in listing.text and kiosk["device_key"] not in listing.text


async def test_valid_key_votes_unknown_key_does_not(rating: Client, feeder: Feeder, rating_clock: FakeClock) -> None:
    kiosk = await register(rating, window="general", department="D-KIOSK")
    r = await vote(rating, kiosk["device_key"], score=4)
    assert r.status_code == 201, r.text
    assert (r.json()["channel"], r.json()["window"], r.json()["department"]) == ("kiosk", "general", "D-KIOSK")
    events = await feeder.wait_published("rating.review.submitted", lambda e: e.review_id == r.json()["review_id"])
    assert events[0].channel == "kiosk"

    assert (await vote(rating, None)).status_code == 401
    assert (await vote(rating, "ks_forged-key")).status_code == 401
    rating_clock.advance(INTERVAL)
    wrong_window = await vote(rating, kiosk["device_key"], window="investment")
    assert wrong_window.status_code == 403


async def test_revoked_kiosk_cannot_vote(rating: Client, rating_clock: FakeClock) -> None:
    kiosk = await register(rating)
    assert (await vote(rating, kiosk["device_key"])).status_code == 201
    assert (
        await rating.http.delete(f"/api/v1/kiosks/{kiosk['kiosk_id']}", headers=rating.supervisor)
    ).status_code == 403
    assert (await rating.http.delete(f"/api/v1/kiosks/{kiosk['kiosk_id']}", headers=rating.admin)).status_code == 204
    assert (await rating.http.delete("/api/v1/kiosks/KS-nope", headers=rating.admin)).status_code == 404
    rating_clock.advance(INTERVAL)
    r = await vote(rating, kiosk["device_key"])
    assert r.status_code == 403 and "revoked" in r.json()["detail"]


async def test_kiosk_is_throttled(rating: Client, rating_clock: FakeClock) -> None:
    kiosk = await register(rating)
    key = kiosk["device_key"]
    assert (await vote(rating, key)).status_code == 201
    # A second press at once is refused (one vote per interval), with a Retry-After.
    burst = await asyncio.gather(*(vote(rating, key) for _ in range(5)))
    assert [b.status_code for b in burst] == [429] * 5
    assert int(burst[0].headers["retry-after"]) >= 1
    rating_clock.advance(INTERVAL + 0.05)
    assert (await vote(rating, key)).status_code == 201
    rating_clock.advance(INTERVAL + 0.05)
    assert (await vote(rating, key)).status_code == 201
    # Three votes this hour is this module's cap: the fourth waits, however long the pause.
    rating_clock.advance(INTERVAL + 0.05)
    capped = await vote(rating, key)
    assert capped.status_code == 429 and "this hour" in capped.json()["detail"]
    # Another kiosk is not held back by this one.
    other = await register(rating)
    assert (await vote(rating, other["device_key"])).status_code == 201

    stats = await rating.http.get("/api/v1/ratings/stats", params={"by": "channel"})
    kiosk_row = next(i for i in stats.json()["items"] if i["key"] == "kiosk")
    assert kiosk_row["count"] >= 4


async def test_bad_kiosk_vote_opens_a_case_for_the_kiosks_department(rating: Client) -> None:
    kiosk = await register(rating, department="D-DESK")
    r = await vote(rating, kiosk["device_key"], score=1)
    assert r.status_code == 201
    case = await rating.http.get(f"/api/v1/rectifications/{r.json()['rectification_id']}", headers=rating.supervisor)
    assert case.json()["department"] == "D-DESK" and case.json()["channel"] == "kiosk"
    undepartmented = await register(rating, department=None)
    r = await vote(rating, undepartmented["device_key"], score=2)
    case = await rating.http.get(f"/api/v1/rectifications/{r.json()['rectification_id']}", headers=rating.supervisor)
    assert case.json()["department"] == "HALL"


async def test_a_retried_vote_is_not_counted_twice(rating: Client) -> None:
    kiosk = await register(rating, department="D-RETRY")
    headers = {"X-Device-Key": kiosk["device_key"], "Idempotency-Key": "vote-1"}
    body = {"window": "general", "score": 3}
    first = await rating.http.post("/api/v1/kiosk/ratings", json=body, headers=headers)
    again = await rating.http.post("/api/v1/kiosk/ratings", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json()["review_id"] == first.json()["review_id"]
    stats = await rating.http.get("/api/v1/ratings/stats", params={"by": "department"})
    assert next(i for i in stats.json()["items"] if i["key"] == "D-RETRY")["count"] == 1
