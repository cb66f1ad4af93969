"""The satisfaction figures against a hand-computed example (this module's service holds only these)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from services.rating.reviews import repository
from services.rating.tests.harness import Client, Feeder, assert_figures_consistent, decided_application, yesterday

D1 = yesterday() - timedelta(days=9)
D2 = yesterday() - timedelta(days=2)

SURVEY = (
    "response_id,surveyed_on,department,window,item_code,clerk,score\n"
    f"S1,{D1},A,general,I1,c1,5\n"
    f"S2,{D1},A,general,I1,c1,4\n"
    f"S3,{D1},A,commercial,I2,c2,2\n"
    f"S4,{D2},B,commercial,I2,c2,3\n"
    f"S5,{D2},B,commercial,I3,c2,1\n"
    f"S6,{D2},B,general,I3,c1,5\n"
)


async def figures(rating: Client, headers: dict[str, str] | None = None, /, **params: str) -> dict[str, Any]:
    r = await rating.http.get("/api/v1/ratings/stats", params=params, headers=headers or {})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def table(body: dict[str, Any]) -> dict[str, tuple[int, int, float | None]]:
    return {i["key"]: (i["count"], i["satisfied"], i["satisfaction_rate"]) for i in body["items"]}


async def test_figures_match_a_hand_computed_example(rating: Client, feeder: Feeder) -> None:
    # Six survey responses on two days, one online rating and one kiosk vote today.
    r = await rating.http.post(
        "/api/v1/surveys/imports",
        data={"institution": "调查所"},
        files={"file": ("s.csv", SURVEY.encode(), "text/csv")},
        headers=rating.admin,
    )
    assert r.json()["added"] == 6
    no, applicant = await decided_application(rating, feeder, department="A", window="general", clerk="clerk_wang")
    r = await rating.http.post(
        "/api/v1/ratings", json={"application_no": no, "score": 4}, headers=rating.citizen(applicant)
    )
    assert r.status_code == 201
    kiosk = (
        await rating.http.post("/api/v1/kiosks", json={"window": "general", "department": "B"}, headers=rating.admin)
    ).json()
    r = await rating.http.post(
        "/api/v1/kiosk/ratings", json={"window": "general", "score": 2}, headers={"X-Device-Key": kiosk["device_key"]}
    )
    assert r.status_code == 201

    # By department: A = 5,4,2,4 -> 4 ratings, 3 satisfied; B = 3,1,5,2 -> 4 ratings, 2 satisfied.
    by_department = await figures(rating, by="department")
    assert table(by_department) == {"A": (4, 3, 0.75), "B": (4, 2, 0.5)}
    a = next(i for i in by_department["items"] if i["key"] == "A")
    assert (a["bad_reviews"], a["average_score"], a["scores"]) == (1, 3.75, {"5": 1, "4": 2, "3": 0, "2": 1, "1": 0})
    total = by_department["total"]
    assert (total["count"], total["satisfied"], total["satisfaction_rate"], total["bad_reviews"]) == (8, 5, 0.625, 3)

    # By window: general = 5,4,5,4,2 (4 of 5); commercial = 2,3,1 (1 of 3).
    assert table(await figures(rating, by="window")) == {"commercial": (3, 1, 0.3333), "general": (5, 4, 0.8)}
    # By channel: survey 4 of 6, online 1 of 1, kiosk 0 of 1.
    assert table(await figures(rating, by="channel")) == {
        "kiosk": (1, 0, 0.0),
        "online": (1, 1, 1.0),
        "survey": (6, 4, 0.6667),
    }
    # By item: the kiosk vote names none.
    assert table(await figures(rating, by="item")) == {
        "I1": (2, 2, 1.0),
        "I2": (2, 1, 0.5),
        "I3": (2, 1, 0.5),
        "ITEM-1": (1, 1, 1.0),
        "unattributed": (1, 0, 0.0),
    }
    # A period: the first day alone is S1-S3; from the second day on, everything after.
    assert table(await figures(rating, by="department", **{"from": str(D1), "to": str(D1)})) == {"A": (3, 2, 0.6667)}
    assert table(await figures(rating, by="department", **{"from": str(D2)})) == {"A": (1, 1, 1.0), "B": (4, 2, 0.5)}
    assert table(await figures(rating, by="channel", channel="survey", **{"to": str(D1)})) == {"survey": (3, 2, 0.6667)}

    # By clerk is for supervisors (named staff are personal data); the public version has no names.
    assert (await rating.http.get("/api/v1/ratings/stats", params={"by": "clerk"})).status_code == 401
    clerk = rating.staff("c1", "clerk")
    assert (await rating.http.get("/api/v1/ratings/stats", params={"by": "clerk"}, headers=clerk)).status_code == 403
    assert table(await figures(rating, rating.supervisor, by="clerk")) == {
        "c1": (3, 3, 1.0),
        "c2": (3, 1, 0.3333),
        "clerk_wang": (1, 1, 1.0),
        "unattributed": (1, 0, 0.0),
    }
    public = await rating.http.get("/api/v1/ratings/stats", params={"by": "department"})
    assert applicant not in public.text and no not in public.text and "clerk_wang" not in public.text

    bad = await rating.http.get("/api/v1/ratings/stats", params={"by": "department", "from": str(D2), "to": str(D1)})
    assert bad.status_code == 422
    assert (await rating.http.get("/api/v1/ratings/stats", params={"by": "nobody"})).status_code == 422
    await assert_figures_consistent(rating)

    # Recounting the roll-up from scratch (after a bulk load, or to repair it) gives the same figures.
    before = await figures(rating, by="item")
    async with rating.svc.kernel.db.transaction() as session:
        await repository.rebuild_daily(session)
    assert await figures(rating, by="item") == before
    await assert_figures_consistent(rating)
