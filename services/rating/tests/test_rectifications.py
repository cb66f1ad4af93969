"""Bad reviews followed up: a case on approval's clock (yellow, red), return visit, result, appeal."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from owkernel.contracts.approval import CardRaised, ClockClosed, ClockOpened
from owtest import eventually
from services.rating.tests.harness import Client, Feeder, assert_figures_consistent, decided_application, unique


async def bad_review(rating: Client, feeder: Feeder, department: str, score: int = 2) -> tuple[str, str, str]:
    """(application_no, applicant, rectification_id) of a fresh bad review."""
    no, applicant = await decided_application(rating, feeder, department=department)
    r = await rating.http.post(
        "/api/v1/ratings",
        json={"application_no": no, "score": score, "comment": "窗口推诿"},
        headers=rating.citizen(applicant),
    )
    assert r.status_code == 201, r.text
    return no, applicant, r.json()["rectification_id"]


async def case_of(rating: Client, case_id: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    r = await rating.http.get(f"/api/v1/rectifications/{case_id}", headers=headers or rating.supervisor)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def test_bad_review_opens_a_case_whose_clock_turns_yellow_and_red(rating: Client, feeder: Feeder) -> None:
    dept = unique("D-")
    no, applicant, case_id = await bad_review(rating, feeder, dept)

    # Rating asks approval's supervision engine for a clock of 5 working days.
    opened = await feeder.wait_published("rating.rectification.opened", lambda e: e.rectification_id == case_id)
    assert (opened[0].department, opened[0].due_working_days, opened[0].origin) == (dept, 5, "review")
    assert opened[0].application_no == no

    # Approval (played here over the real bus) starts the clock, then raises a yellow and a red card.
    today = datetime.now(UTC).date()
    due = today + timedelta(days=7)
    clock = unique("CLK-")
    await feeder.publish(
        ClockOpened(
            clock_id=clock,
            clock_kind="rectification",
            ref=case_id,
            department=dept,
            application_no=no,
            started_on=today,
            due_date=due,
            working_days=5,
        )
    )

    async def due_date_known() -> dict[str, Any] | None:
        case = await case_of(rating, case_id)
        return case if case["due_date"] == due.isoformat() else None

    case = await eventually(due_date_known)
    assert case["clock_id"] == clock and case["card"] is None and case["status"] == "open"

    for color in ("yellow", "red"):
        await feeder.publish(card(clock, case_id, dept, color, due))

        async def shows(c: str = color) -> bool:
            return bool((await case_of(rating, case_id))["card"] == c)

        await eventually(shows)

    # A late yellow card never turns a red case back.
    await feeder.publish(card(clock, case_id, dept, "yellow", due))
    listing = await rating.http.get("/api/v1/rectifications", params={"status": "open"}, headers=rating.supervisor)
    mine = [c for c in listing.json()["items"] if c["rectification_id"] == case_id]
    assert mine and mine[0]["card"] == "red" and mine[0]["application_no"] == no

    # The return visit: the applicant gives their account (a stranger cannot).
    stranger = await rating.http.post(
        f"/api/v1/rectifications/{case_id}/visit",
        json={"account": "x"},
        headers=rating.citizen("370602199001019999"),
    )
    assert stranger.status_code == 403
    visit = await rating.http.post(
        f"/api/v1/rectifications/{case_id}/visit",
        json={"account": "确认窗口人员推诿，已当面致歉", "confirmed": True},
        headers=rating.citizen(applicant),
    )
    assert visit.status_code == 200
    assert visit.json()["visit"]["visited_by"] == "applicant" and visit.json()["visit"]["confirmed"] is True
    # The applicant follows their case; nothing in it names them.
    followed = await rating.http.get(f"/api/v1/rectifications/{case_id}", headers=rating.citizen(applicant))
    assert followed.status_code == 200 and followed.json()["application_no"] is None
    assert applicant not in followed.text

    # The department records its result: the case closes and its outcome is published.
    staff = rating.staff("appr_" + dept.lower(), "approver", department=dept)
    other = rating.staff("appr_other", "approver", department="D-OTHER")
    assert (
        await rating.http.post(f"/api/v1/rectifications/{case_id}/result", json={"result": "x"}, headers=other)
    ).status_code == 404
    done = await rating.http.post(
        f"/api/v1/rectifications/{case_id}/result", json={"result": "已培训整改，流程公示"}, headers=staff
    )
    assert done.status_code == 200, done.text
    assert (done.json()["status"], done.json()["on_time"]) == ("rectified", True)  # by the due date, provisionally
    closed = await feeder.wait_published("rating.rectification.closed", lambda e: e.rectification_id == case_id)
    assert (closed[0].outcome, closed[0].department) == ("rectified", dept)
    again = await rating.http.post(f"/api/v1/rectifications/{case_id}/result", json={"result": "y"}, headers=staff)
    assert again.status_code == 409

    # Supervision has the last word on the deadline: its clock closed late.
    await feeder.publish(
        ClockClosed(clock_id=clock, clock_kind="rectification", ref=case_id, on_time=False, closed_at=datetime.now(UTC))
    )

    async def late() -> bool:
        return (await case_of(rating, case_id))["on_time"] is False

    await eventually(late)
    stats = (await rating.http.get("/api/v1/ratings/stats", params={"by": "department"})).json()
    row = next(i for i in stats["items"] if i["key"] == dept)
    assert (row["count"], row["bad_reviews"], row["rectified"], row["rectified_on_time"]) == (1, 1, 1, 0)

    public = await rating.http.get("/api/v1/rectifications/published", params={"department": dept})
    assert [(p["outcome"], p["result"]) for p in public.json()["items"]] == [("rectified", "已培训整改，流程公示")]
    assert no not in public.text and "窗口推诿" not in public.text
    await assert_figures_consistent(rating)


def card(clock: str, case_id: str, dept: str, color: str, due: date) -> CardRaised:
    return CardRaised(
        card_id=unique("CARD-"),
        clock_id=clock,
        clock_kind="rectification",
        ref=case_id,
        department=dept,
        color="red" if color == "red" else "yellow",
        due_date=due,
        raised_at=datetime.now(UTC),
    )


async def test_upheld_appeal_annuls_the_review(rating: Client, feeder: Feeder) -> None:
    dept = unique("D-")
    _, applicant, case_id = await bad_review(rating, feeder, dept, score=1)
    staff = rating.staff("appr_a", "approver", department=dept)

    other = await rating.http.post(
        f"/api/v1/rectifications/{case_id}/appeal",
        json={"reason": "x"},
        headers=rating.staff("o", "approver", department="D-ELSE"),
    )
    assert other.status_code == 404
    appealed = await rating.http.post(
        f"/api/v1/rectifications/{case_id}/appeal", json={"reason": "申请人未到过窗口，系误评"}, headers=staff
    )
    assert appealed.status_code == 200 and appealed.json()["status"] == "appealed"
    waiting = await rating.http.post(f"/api/v1/rectifications/{case_id}/result", json={"result": "x"}, headers=staff)
    assert waiting.status_code == 409
    not_theirs = await rating.http.post(
        f"/api/v1/rectifications/{case_id}/appeal/decision",
        json={"decision": "upheld", "opinion": "x"},
        headers=staff,
    )
    assert not_theirs.status_code == 403

    decided = await rating.http.post(
        f"/api/v1/rectifications/{case_id}/appeal/decision",
        json={"decision": "upheld", "opinion": "经核实系误评，撤销"},
        headers=rating.supervisor,
    )
    assert decided.status_code == 200
    assert decided.json()["status"] == "annulled" and decided.json()["appeal"]["decision"] == "upheld"
    closed = await feeder.wait_published("rating.rectification.closed", lambda e: e.rectification_id == case_id)
    assert closed[0].outcome == "annulled"

    # The annulled review no longer counts anywhere.
    stats = (await rating.http.get("/api/v1/ratings/stats", params={"by": "department"})).json()
    assert dept not in {i["key"] for i in stats["items"]}
    await assert_figures_consistent(rating)
    own = await rating.http.get("/api/v1/ratings", headers=rating.citizen(applicant))
    assert own.json()["items"][0]["annulled"] is True


async def test_dismissed_appeal_keeps_the_case_open(rating: Client, feeder: Feeder) -> None:
    dept = unique("D-")
    _, _, case_id = await bad_review(rating, feeder, dept)
    staff = rating.staff("appr_d", "approver", department=dept)
    await rating.http.post(f"/api/v1/rectifications/{case_id}/appeal", json={"reason": "恶意差评"}, headers=staff)
    decided = await rating.http.post(
        f"/api/v1/rectifications/{case_id}/appeal/decision",
        json={"decision": "dismissed", "opinion": "评价属实"},
        headers=rating.supervisor,
    )
    assert decided.json()["status"] == "open"
    twice = await rating.http.post(f"/api/v1/rectifications/{case_id}/appeal", json={"reason": "再议"}, headers=staff)
    assert twice.status_code == 409
    done = await rating.http.post(f"/api/v1/rectifications/{case_id}/result", json={"result": "已整改"}, headers=staff)
    assert done.json()["status"] == "rectified" and done.json()["on_time"] is None  # no clock yet: supervision decides


async def test_who_sees_the_cases(rating: Client, feeder: Feeder) -> None:
    dept = unique("D-")
    _, applicant, case_id = await bad_review(rating, feeder, dept)
    assert (await rating.http.get("/api/v1/rectifications")).status_code == 401
    assert (await rating.http.get("/api/v1/rectifications", headers=rating.citizen(applicant))).status_code == 403
    assert (
        await rating.http.get("/api/v1/rectifications", params={"status": "bogus"}, headers=rating.supervisor)
    ).status_code == 422
    own = await rating.http.get("/api/v1/rectifications", headers=rating.staff("s", "approver", department=dept))
    assert [c["rectification_id"] for c in own.json()["items"]] == [case_id]
    assert (await rating.http.get("/api/v1/rectifications/RC-none", headers=rating.supervisor)).status_code == 404
