"""The published figures (/api/v1/figures) against a hand-computed month of events from the bus."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from owkernel.contracts import EventData
from owkernel.contracts.approval import ApplicationApproved, ApplicationRejected, CardRaised, ClockClosed, ClockOpened
from owkernel.contracts.common import DeferredMaterial, ItemSnapshot
from owkernel.contracts.intake import CatalogItemChanged, VisitRecorded
from owtest import eventually
from services.rating.tests.harness import Client, Feeder, accepted, idn, unique

# Mid-month instants (the hall is UTC+8: none is near a month's edge).
AT = datetime(2025, 3, 12, 2, 0, tzinfo=UTC)
DAY = date(2025, 3, 12)


def item(code: str, *, secret: bool = False, committed: int = 5, departments: list[str] | None = None) -> ItemSnapshot:
    deps = departments or ["D-MARKET"]
    return ItemSnapshot(
        code=code,
        version=1,
        name="事项",
        kind="licensing",
        department=deps[0],
        departments=deps,
        lead_department=deps[0],
        window="general",
        legal_days=20,
        committed_days=committed,
        trips=0,
        fee_fen=0,
        secret=secret,
    )


async def month(rating: Client, **params: str) -> dict[str, Any]:
    r = await rating.http.get("/api/v1/figures", params=params)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def test_a_month_of_events_gives_hand_computed_figures(rating: Client, feeder: Feeder) -> None:
    a1, a2, a3, a4, a5 = (unique("APP") for _ in range(5))
    events: list[EventData] = [
        # A1 online; A2 at a window with 容缺; A3 online but a secret item; A4, A5 a key project's two stages.
        accepted(a1, id_number=idn(), at=AT).model_copy(update={"channel": "online"}),
        accepted(a2, id_number=idn(), at=AT).model_copy(
            update={"channel": "window", "deferred_materials": [DeferredMaterial(code="M", name="m", due_date=DAY)]}
        ),
        accepted(a3, id_number=idn(), at=AT).model_copy(update={"channel": "online", "item": item("S", secret=True)}),
        accepted(a4, id_number=idn(), at=AT).model_copy(
            update={
                "channel": "window",
                "project_no": "PRJ-1",
                "stage": 1,
                "project_investment_fen": 500_000_000,
                "project_key": True,
            }
        ),
        accepted(a5, id_number=idn(), at=AT).model_copy(
            update={
                "channel": "window",
                "project_no": "PRJ-1",
                "stage": 2,
                "project_investment_fen": 500_000_000,
                "project_key": True,
            }
        ),
        # Trips: A2 one, A3 two, A1 and A4 none.
        VisitRecorded(id_number="x", kind="window", application_no=a2, at=AT),
        VisitRecorded(id_number="x", kind="window", application_no=a3, at=AT),
        VisitRecorded(id_number="x", kind="pickup", application_no=a3, at=AT),
        # Completed in March: A1, A2, A4 approved, A3 rejected; A5 still running.
        *(ApplicationApproved(application_no=n, item_code="I", departments=["D"], decided_at=AT) for n in (a1, a2)),
        ApplicationRejected(application_no=a3, item_code="I", department="D", reason="r", decided_at=AT),
        ApplicationApproved(
            application_no=a4,
            item_code="INV-S1",
            departments=["DRC"],
            decided_at=AT,
            project_no="PRJ-1",
            stage=1,
            working_days_used=4,
        ),
    ]
    # Clocks: a task on time, an application clock late (with a red card), two consultations (one
    # late), and a rectification's clock and red card, which are not the hall's service.
    for cid, kind, on_time, no in (
        ("C1", "task", True, a1),
        ("C2", "application", False, a2),
        ("C3", "consultation", True, None),
        ("C4", "consultation", False, None),
        ("C5", "rectification", False, None),
    ):
        clock = f"{cid}-{a1}"
        events.append(
            ClockOpened(
                clock_id=clock,
                clock_kind=kind,
                ref=clock,
                application_no=no,
                started_on=DAY,
                due_date=DAY,
                working_days=1,
            )
        )
        events.append(
            ClockClosed(clock_id=clock, clock_kind=kind, ref=clock, on_time=on_time, closed_at=AT, application_no=no)
        )
    for card, kind, color in (("K1", "application", "red"), ("K2", "task", "yellow"), ("K3", "rectification", "red")):
        events.append(
            CardRaised(
                card_id=f"{card}-{a1}",
                clock_id=f"C2-{a1}",
                clock_kind=kind,
                ref="r",
                application_no=a2,
                color=color,
                due_date=DAY,
                raised_at=AT,
            )
        )
    for event in events:
        await feeder.publish(event)
    # Satisfaction from the ratings themselves: three survey answers on a March day, 5, 3 and 1.
    survey = "response_id,surveyed_on,department,window,item_code,clerk,score\n" + "".join(
        f"R{i},{DAY},D,general,I,c,{score}\n" for i, score in enumerate((5, 3, 1))
    )
    r = await rating.http.post(
        "/api/v1/surveys/imports",
        data={"institution": "调查所"},
        files={"file": ("s.csv", survey.encode(), "text/csv")},
        headers=rating.admin,
    )
    assert r.status_code in (200, 201), r.text

    expected = {
        "month": "2025-03",
        "source": "computed",
        "applications": 5,
        # Of the four items that may be done online (A3's is secret), A1 was: 1/4.
        "online_share": 0.25,
        # Completed A1 (0 trips), A2 (1), A3 (2), A4 (0): 2/4 with none, 1/4 with one.
        "zero_trip_share": 0.5,
        "one_trip_share": 0.25,
        # A2 of 5 accepted with 容缺.
        "deferred_share": 0.2,
        # Task and application clocks: C1 on time, C2 late.
        "on_time_rate": 0.5,
        "red_cards": 1,
        "consultations_on_time_rate": 0.5,
        # Scores 5, 3, 1: two of three satisfied.
        "satisfaction_rate": 0.6667,
        # PRJ-1 once, though two of its stages were accepted.
        "projects": {"count": 1, "key": 1, "investment_fen": 500_000_000},
    }

    async def settled() -> dict[str, Any] | None:
        # Intake's and approval's streams arrive independently: wait until every event is in.
        body = await month(rating, **{"from": "2025-03", "to": "2025-03"})
        return body if body["months"][0] == expected else None

    try:
        body = await eventually(settled, timeout=15.0)
    except Exception:
        body = await month(rating, **{"from": "2025-03", "to": "2025-03"})
    march = body["months"][0]
    assert march == expected
    assert {k: v for k, v in body["total"].items()} == {k: v for k, v in march.items() if k not in ("month", "source")}

    # Another hall saw none of it; a later empty month has no shares.
    other = await month(rating, **{"from": "2025-03", "to": "2025-04", "hall": "COUNTY-A"})
    assert other["months"][0]["applications"] == 0 and other["months"][0]["online_share"] is None
    assert other["months"][1]["month"] == "2025-04"

    # The same figures as CSV.
    r = await rating.http.get(
        "/api/v1/figures", params={"from": "2025-03", "to": "2025-03"}, headers={"Accept": "text/csv"}
    )
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    lines = r.text.strip().split("\n")
    assert lines[0].startswith("month,source,applications,online_share,zero_trip_share")
    assert lines[1] == "2025-03,computed,5,0.2500,0.5000,0.2500,0.2000,0.5000,1,0.5000,0.6667,1,1,500000000"
    assert lines[2].startswith("total,,5,")

    # A redelivered acceptance (a new envelope of the same event) counts nothing twice.
    await feeder.publish(events[0])
    await feeder.publish(events[3])
    # An April acceptance behind them on the same stream tells when they were handled.
    await feeder.publish(accepted(unique("APP"), id_number=idn(), at=datetime(2025, 4, 10, tzinfo=UTC)))

    async def april() -> bool:
        body = await month(rating, **{"from": "2025-04", "to": "2025-04"})
        return bool(body["months"][0]["applications"] == 1)

    await eventually(april, timeout=10.0)
    again = await month(rating, **{"from": "2025-03", "to": "2025-03"})
    assert again["months"][0] == march

    bad = await rating.http.get("/api/v1/figures", params={"from": "2025-04", "to": "2025-03"})
    assert bad.status_code == 422
    assert (await rating.http.get("/api/v1/figures", params={"from": "2025-13"})).status_code == 422


async def test_projects_from_the_catalog_and_the_days_really_used(rating: Client, feeder: Feeder) -> None:
    at = datetime(2025, 3, 1, tzinfo=UTC)
    stages = (("INV-S1", 1, 6, ["DRC"]), ("INV-S2", 2, 12, ["PLAN", "LAND"]), ("INV-S3", 3, 5, ["PLAN"]))
    for code, stage, days, departments in stages:
        snapshot = item(code, committed=days, departments=departments).model_copy(update={"version": 2})
        await feeder.publish(CatalogItemChanged(item=snapshot, status="active", stage=stage, changed_at=at))
    # An older version arriving late changes nothing; stage 4's item is created then cancelled.
    old = item("INV-S1", committed=20, departments=["DRC"])
    await feeder.publish(CatalogItemChanged(item=old, status="active", stage=1, changed_at=at))
    s4 = item("INV-S4", committed=11, departments=["HOUSING"])
    await feeder.publish(CatalogItemChanged(item=s4, status="active", stage=4, changed_at=at))
    await feeder.publish(
        CatalogItemChanged(item=s4.model_copy(update={"version": 2}), status="cancelled", stage=4, changed_at=at)
    )
    for no, used in (("P-A", 5), ("P-B", 8)):
        await feeder.publish(accepted(no, id_number=idn(), at=at))
        await feeder.publish(
            ApplicationApproved(
                application_no=no,
                item_code="INV-S2",
                departments=["PLAN", "LAND"],
                decided_at=at,
                project_no=no,
                stage=2,
                working_days_used=used,
            )
        )

    async def settled() -> dict[str, Any] | None:
        r = await rating.http.get("/api/v1/figures/projects")
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        ready = body["stages"][1]["used"]["projects"] == 2 and body["stages"][3]["items"] == []
        return body if ready and body["stages"][2]["items"] == ["INV-S3"] else None

    body = await eventually(settled, timeout=15.0)
    assert [(s["stage"], s["items"], s["committed_days"]) for s in body["stages"]] == [
        (1, ["INV-S1"], 6),
        (2, ["INV-S2"], 12),
        (3, ["INV-S3"], 5),
        (4, [], 0),
    ]
    assert body["stages"][1]["departments"] == ["PLAN", "LAND"]
    assert body["stages"][1]["used"] == {"projects": 2, "average_working_days": 6.5, "max_working_days": 8}
    # Stages in order, each stage's departments together: 6 + 12 + 5; one after another 6 + 2x12 + 5.
    assert (body["parallel_total"], body["sequential_total"]) == (23, 35)


async def test_history_imported_by_an_admin_answers_its_months(rating: Client) -> None:
    payload = {
        "months": [
            {"month": "2024-11", "applications": 1000, "online_share": 0.5, "satisfaction_rate": 0.99},
            {"month": "2024-11", "hall": "COUNTY-A", "applications": 100, "online_share": 0.3, "red_cards": 2},
        ]
    }
    assert (await rating.http.post("/api/v1/figures/history", json=payload)).status_code == 401
    clerk = rating.staff("c1", "clerk")
    assert (await rating.http.post("/api/v1/figures/history", json=payload, headers=clerk)).status_code == 403
    r = await rating.http.post("/api/v1/figures/history", json=payload, headers=rating.admin)
    assert r.status_code == 201, r.text
    assert r.json() == {"imported": 2, "months": ["2024-11"], "halls": ["CITY", "COUNTY-A"]}
    csv_body = "month,hall,applications,online_share,projects_count,projects_key,projects_investment_fen\n"
    csv_body += "2024-12,CITY,800,0.25,3,1,12000000\n"
    r = await rating.http.post(
        "/api/v1/figures/history", content=csv_body.encode(), headers={**rating.admin, "Content-Type": "text/csv"}
    )
    assert r.status_code == 201, r.text

    body = await month(rating, **{"from": "2024-11", "to": "2025-01"})
    nov, dec, jan = body["months"]
    assert (nov["source"], nov["applications"], nov["red_cards"]) == ("imported", 1100, 2)
    # Weighted by applications: (500 + 30) / 1100.
    assert nov["online_share"] == round(530 / 1100, 4)
    # Only the city said its satisfaction: 990 of its 1000.
    assert nov["satisfaction_rate"] == 0.99
    assert (dec["source"], dec["online_share"], dec["projects"]) == (
        "imported",
        0.25,
        {"count": 3, "key": 1, "investment_fen": 12_000_000},
    )
    assert (jan["source"], jan["applications"]) == ("computed", 0)
    assert body["total"]["applications"] == 1900
    county = await month(rating, **{"from": "2024-11", "to": "2024-11", "hall": "COUNTY-A"})
    assert (county["months"][0]["applications"], county["months"][0]["online_share"]) == (100, 0.3)

    # Importing a month again replaces it; bad input is a 422 naming the field.
    again = {"months": [{"month": "2024-11", "applications": 10}]}
    assert (await rating.http.post("/api/v1/figures/history", json=again, headers=rating.admin)).status_code == 201
    assert (await month(rating, **{"from": "2024-11", "to": "2024-11"}))["months"][0]["applications"] == 110
    wrong = {"months": [{"month": "2024-13", "applications": -1, "online_share": 2}]}
    r = await rating.http.post("/api/v1/figures/history", json=wrong, headers=rating.admin)
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["errors"]} >= {"months.0.month", "months.0.applications"}
    r = await rating.http.post(
        "/api/v1/figures/history", content=b"a,b\n1,2\n", headers={**rating.admin, "Content-Type": "text/csv"}
    )
    assert r.status_code == 422
