"""Deadlines over the Chinese calendar through the running service: National Day 2026 and its
adjusted weekend days, and a deadline into 2027 (no published data) that is provisional until an
administrator enters 2027, then recomputed."""

from __future__ import annotations

from datetime import date

from services.approval.tests.harness import Approval, accepted, at


async def test_calendar_2026_is_seeded_and_2027_says_it_has_no_data(approval: Approval) -> None:
    r = await approval.client.get("/api/v1/calendar/2026")
    assert r.status_code == 200
    body = r.json()
    assert body["has_data"] is True and body["source"] == "package"
    assert {f"2026-10-0{d}" for d in range(1, 8)} <= set(body["holidays"])
    assert {"2026-09-20", "2026-10-10"} <= set(body["workdays"])
    assert {"date": "2026-10-01", "name": "National Day"} in body["named_days"]
    nothing = await approval.client.get("/api/v1/calendar/2027")
    assert nothing.status_code == 200
    assert nothing.json()["has_data"] is False and nothing.json()["holidays"] == []
    assert "provisional" in nothing.json()["note"]
    assert (await approval.client.get("/api/v1/calendar/1999")).status_code == 422


async def test_deadlines_across_national_day(approval: Approval) -> None:
    # Monday 28 September: 29, 30 September, then 8, 9 and the adjusted working Saturday 10 October.
    approval.clock.set(date(2026, 9, 28))
    await approval.publish(accepted("N-1", departments=["LAND"], accepted_at=at(date(2026, 9, 28))))
    # Friday 18 September, 2 days: the adjusted working Sunday 20 September, then Monday 21.
    await approval.publish(
        accepted("N-2", departments=["LAND"], committed_days=2, accepted_at=at(date(2026, 9, 18), 16))
    )
    [n1] = await approval.open_tasks("LAND", "N-1")
    [n2] = await approval.open_tasks("LAND", "N-2")
    assert n1["due_date"] == "2026-10-10" and n1["provisional"] is False
    assert n2["due_date"] == "2026-09-21"
    # An acceptance late in the evening in the hall (before midnight UTC+8) counts from that day.
    await approval.publish(
        accepted("N-3", departments=["LAND"], committed_days=1, accepted_at=at(date(2026, 9, 30), 23, 30))
    )
    [n3] = await approval.open_tasks("LAND", "N-3")
    assert n3["due_date"] == "2026-10-08"


async def test_deadline_into_2027_is_provisional_then_recomputed(approval: Approval) -> None:
    approval.clock.set(date(2026, 12, 28))
    await approval.publish(accepted("Y-1", departments=["LAND"], accepted_at=at(date(2026, 12, 28))))
    [task] = await approval.open_tasks("LAND", "Y-1")
    # 29, 30, 31 December; then weekdays only: Friday 1 January (not known yet to be a holiday), Monday 4.
    assert task["due_date"] == "2027-01-04" and task["provisional"] is True
    [assigned] = await approval.wait_events("approval.task.assigned", application_no="Y-1")
    assert assigned.data["provisional"] is True and assigned.data["due_date"] == "2027-01-04"

    put = {"holidays": ["2027-01-01", "2027-02-06"], "workdays": []}
    refused = await approval.client.put("/api/v1/calendar/2027", json=put, headers=approval.supervisor())
    assert refused.status_code == 403
    weekday = await approval.client.put(
        "/api/v1/calendar/2027", json={"holidays": [], "workdays": ["2027-01-04"]}, headers=approval.admin()
    )
    assert weekday.status_code == 422
    wrong_year = await approval.client.put(
        "/api/v1/calendar/2027", json={"holidays": ["2026-01-01"]}, headers=approval.admin()
    )
    assert wrong_year.status_code == 422
    assert (await approval.client.get("/api/v1/calendar/2027")).json()["has_data"] is False

    r = await approval.client.put("/api/v1/calendar/2027", json=put, headers=approval.admin())
    assert r.status_code == 200, r.text
    assert r.json()["has_data"] is True and r.json()["source"] == "admin" and r.json()["recomputed_clocks"] == 2
    [task] = await approval.open_tasks("LAND", "Y-1")
    assert task["due_date"] == "2027-01-05" and task["provisional"] is False
    moved = await approval.wait_events("approval.clock.rescheduled", 2, application_no="Y-1")
    assert {e.data["reason"] for e in moved} == {"calendar"}
    assert {e.data["due_date"] for e in moved} == {"2027-01-05"}
    clock = await approval.clock_of("task", task["task_id"])
    assert clock["ledger"][-1]["kind"] == "calendar" and clock["ledger"][-1]["due_before"] == "2027-01-04"
    # A new acceptance now counts on the entered year.
    await approval.publish(accepted("Y-2", departments=["LAND"], accepted_at=at(date(2026, 12, 28))))
    [y2] = await approval.open_tasks("LAND", "Y-2")
    assert y2["due_date"] == "2027-01-05" and y2["provisional"] is False
