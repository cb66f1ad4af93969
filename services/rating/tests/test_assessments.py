"""Inspection findings and the monthly 100-point assessment, checked against a hand-computed example."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select

from owkernel.contracts.approval import CardRaised, ClockClosed, ClockOpened
from owkernel.contracts.intake import VisitRecorded
from owtest import eventually
from services.rating.assessments import service
from services.rating.known_applications.models import Application
from services.rating.known_supervision.models import Card, Clock, Visit
from services.rating.tests.harness import Client, Feeder, accepted, idn, unique

TODAY = (datetime.now(UTC) + timedelta(hours=8)).date()
FIRST = (TODAY.replace(day=1) - timedelta(days=1)).replace(day=1)  # the previous month
MONTH = FIRST.strftime("%Y-%m")


def at(day: date) -> datetime:
    """Noon UTC of a day of the assessed month."""
    return datetime.combine(day, time(12), tzinfo=UTC)


async def test_inspection_is_published_and_rectified(rating: Client, feeder: Feeder) -> None:
    body = {
        "department": "D-INSP",
        "window": "general",
        "problem": "窗口人员脱岗",
        "penalty": "通报批评",
        "penalty_points": 3,
    }
    assert (
        await rating.http.post("/api/v1/inspections", json=body, headers=rating.staff("c", "clerk"))
    ).status_code == 403
    r = await rating.http.post("/api/v1/inspections", json=body, headers=rating.supervisor)
    assert r.status_code == 201, r.text
    finding = r.json()
    assert finding["rectification_status"] == "open" and finding["penalty_points"] == 3
    opened = await feeder.wait_published(
        "rating.rectification.opened", lambda e: e.rectification_id == finding["rectification_id"]
    )
    assert (opened[0].origin, opened[0].department, opened[0].inspection_id) == (
        "inspection",
        "D-INSP",
        finding["inspection_id"],
    )
    await feeder.wait_published("rating.inspection.recorded", lambda e: e.inspection_id == finding["inspection_id"])

    public = await rating.http.get("/api/v1/inspections", params={"department": "D-INSP"})
    assert [i["problem"] for i in public.json()["items"]] == ["窗口人员脱岗"]
    assert "sup_li" not in public.text  # the publication does not name the inspector

    # A finding is not appealed like a review; it is rectified and the result published.
    dept_staff = rating.staff("head", "approver", department="D-INSP")
    case = finding["rectification_id"]
    appeal = await rating.http.post(f"/api/v1/rectifications/{case}/appeal", json={"reason": "x"}, headers=dept_staff)
    assert appeal.status_code == 422
    done = await rating.http.post(
        f"/api/v1/rectifications/{case}/result", json={"result": "已调整排班"}, headers=dept_staff
    )
    assert done.json()["status"] == "rectified"
    one = await rating.http.get(f"/api/v1/inspections/{finding['inspection_id']}")
    assert one.json()["rectification_status"] == "rectified"

    future = {**body, "inspected_on": (TODAY + timedelta(days=3)).isoformat()}
    assert (await rating.http.post("/api/v1/inspections", json=future, headers=rating.supervisor)).status_code == 422


async def count(rating: Client, query: Any) -> int:
    async with rating.svc.kernel.db.transaction() as session:
        return int((await session.execute(query)).scalar_one())


async def test_monthly_assessment_matches_a_hand_computed_example(rating: Client, feeder: Feeder) -> None:
    day = FIRST + timedelta(days=2)
    # Ratings: X (window general) 5,4,2,1 -> half satisfied; Y (window commercial) 5,5 -> all.
    survey = "response_id,surveyed_on,department,window,score\n" + "".join(
        f"{rid},{day},{dept},{window},{score}\n"
        for rid, dept, window, score in (
            ("X1", "X", "general", 5),
            ("X2", "X", "general", 4),
            ("X3", "X", "general", 2),
            ("X4", "X", "general", 1),
            ("Y1", "Y", "commercial", 5),
            ("Y2", "Y", "commercial", 5),
        )
    )
    r = await rating.http.post(
        "/api/v1/surveys/imports",
        data={"institution": "月度调查"},
        files={"file": ("m.csv", survey.encode(), "text/csv")},
        headers=rating.admin,
    )
    assert r.json()["added"] == 6

    # Applications accepted that month: two of X at the general window (A1's applicant came in), one of Y.
    a1, a2, a3 = unique("A1-"), unique("A2-"), unique("A3-")
    for no, dept, window in ((a1, "X", "general"), (a2, "X", "general"), (a3, "Y", "commercial")):
        await feeder.publish(accepted(no, id_number=idn(), department=dept, window=window, at=at(day)))
    await feeder.publish(VisitRecorded(id_number=idn(), kind="window", window="general", application_no=a1, at=at(day)))

    # Supervision: X's tasks closed one on time and one late (with a red card), Y's on time.
    clocks = ((unique("C-"), "X", a1, True), (unique("C-"), "X", a2, False), (unique("C-"), "Y", a3, True))
    for clock_id, dept, no, _ in clocks:
        await feeder.publish(
            ClockOpened(
                clock_id=clock_id,
                clock_kind="task",
                ref=unique("T-"),
                department=dept,
                application_no=no,
                started_on=day,
                due_date=day + timedelta(days=5),
                working_days=5,
            )
        )
    for color, (clock_id, dept, no, _) in (("yellow", clocks[0]), ("red", clocks[1])):
        await feeder.publish(
            CardRaised(
                card_id=unique("K-"),
                clock_id=clock_id,
                clock_kind="task",
                ref="T",
                department=dept,
                application_no=no,
                color="red" if color == "red" else "yellow",
                due_date=day + timedelta(days=5),
                raised_at=at(day + timedelta(days=6)),
            )
        )
    for clock_id, _, _, on_time in clocks:
        await feeder.publish(
            ClockClosed(
                clock_id=clock_id, clock_kind="task", ref="T", on_time=on_time, closed_at=at(day + timedelta(days=7))
            )
        )
    # An inspection finding at X's general window costing 4 points.
    finding = {
        "department": "X",
        "window": "general",
        "problem": "未一次性告知",
        "penalty_points": 4,
        "inspected_on": (day + timedelta(days=1)).isoformat(),
    }
    assert (await rating.http.post("/api/v1/inspections", json=finding, headers=rating.supervisor)).status_code == 201

    async def all_in() -> bool:
        return (
            await count(rating, select(func.count()).select_from(Application)) >= 3
            and await count(rating, select(func.count()).select_from(Visit)) >= 1
            and await count(rating, select(func.count()).select_from(Card)) >= 2
            and await count(rating, select(func.count()).select_from(Clock).where(Clock.closed_at.is_not(None))) >= 3
        )

    await eventually(all_in, timeout=15)

    r = await rating.http.post("/api/v1/assessments", json={"month": MONTH}, headers=rating.supervisor)
    assert r.status_code == 201, r.text
    scores = {(i["scope"], i["key"]): i for i in r.json()["items"]}
    assert set(scores) == {("department", "X"), ("department", "Y"), ("window", "general"), ("window", "commercial")}
    # X: satisfaction 40 x 2/4 = 20; on time 25 x 1/2 = 12.5; red cards 15 - 5 = 10;
    #    inspections 10 - 4 = 6; online 10 x 1/2 = 5 -> 53.5. Y has full marks everywhere.
    for key in (("department", "X"), ("window", "general")):
        parts = {p["name"]: p["score"] for p in scores[key]["breakdown"]}
        assert parts == {"satisfaction": 20.0, "on_time": 12.5, "red_cards": 10.0, "inspections": 6.0, "online": 5.0}
        assert scores[key]["score"] == 53.5
    assert scores[("department", "Y")]["score"] == 100.0 and scores[("window", "commercial")]["score"] == 100.0
    x = {p["name"]: p for p in scores[("department", "X")]["breakdown"]}
    assert (x["satisfaction"]["value"], x["on_time"]["detail"], x["red_cards"]["value"]) == (0.5, "1/2", 1.0)

    published = await feeder.wait_published("rating.assessment.published", lambda e: e.month == MONTH and e.key == "X")
    assert published[-1].score == 53.5 and len(published[-1].breakdown) == 5

    # Weights are configurable per computation: satisfaction and on time only, scaled to 100.
    r = await rating.http.post(
        "/api/v1/assessments",
        json={"month": MONTH, "weights": {"satisfaction": 1, "on_time": 1}},
        headers=rating.supervisor,
    )
    assert {(i["scope"], i["key"]): i["score"] for i in r.json()["items"]}[("department", "X")] == 50.0
    listing = await rating.http.get("/api/v1/assessments", params={"month": MONTH, "scope": "department"})
    assert [(i["key"], i["score"]) for i in listing.json()["items"]] == [("X", 50.0), ("Y", 100.0)]
    one = await rating.http.get(f"/api/v1/assessments/{MONTH}/window/general")
    assert one.status_code == 200 and one.json()["weights"]["satisfaction"] == 50.0

    for bad in ({"month": "2026-13"}, {"month": MONTH, "weights": {"charm": 5}}, {"month": "2999-01"}):
        assert (await rating.http.post("/api/v1/assessments", json=bad, headers=rating.supervisor)).status_code == 422
    assert (
        await rating.http.post("/api/v1/assessments", json={"month": MONTH}, headers=rating.staff("c", "clerk"))
    ).status_code == 403


async def test_last_month_is_assessed_by_itself_once(rating: Client) -> None:
    settings = rating.svc.settings
    assert service.previous_month(settings) == MONTH
    earlier = (FIRST - timedelta(days=1)).replace(day=1)
    survey = f"response_id,surveyed_on,department,score\nE1,{earlier + timedelta(days=3)},D-EARLY,4\n"
    r = await rating.http.post(
        "/api/v1/surveys/imports",
        data={"institution": "自动"},
        files={"file": ("e.csv", survey.encode(), "text/csv")},
        headers=rating.admin,
    )
    assert r.json()["added"] == 1
    month = earlier.strftime("%Y-%m")
    async with rating.svc.kernel.db.transaction() as session:
        assert await service.compute_if_missing(session, settings=settings, month=month) is True
    async with rating.svc.kernel.db.transaction() as session:
        assert await service.compute_if_missing(session, settings=settings, month=month) is False
    one = await rating.http.get(f"/api/v1/assessments/{month}/department/D-EARLY")
    assert one.json()["score"] == 100.0
