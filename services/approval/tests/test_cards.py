"""Yellow and red cards per task, per stage and per application, raised once each by the scan,
published, listed for supervisors and counted in the summary; time moves without sleeping."""

from __future__ import annotations

from datetime import date

from services.approval.tests.harness import Approval, accepted, at


async def test_yellow_then_red_per_task_and_per_stage(approval: Approval) -> None:
    # Stage 2 of a project, two departments, 5 working days from Monday 2 November: due Monday 9;
    # yellow from the 4th working day (one day left, 80% used): Friday 6.
    await approval.publish(
        accepted(
            "C-1",
            departments=["DEV", "PLAN"],
            lead="PLAN",
            accepted_at=at(date(2026, 11, 2)),
            project_no="PRJ-9",
            stage=2,
        )
    )
    dev = (await approval.open_tasks("DEV", "C-1"))[0]
    plan = (await approval.open_tasks("PLAN", "C-1"))[0]
    approval.clock.set(date(2026, 11, 3))
    r = await approval.client.post(
        f"/api/v1/tasks/{dev['task_id']}/decision", json={"decision": "approve"}, headers=approval.approver("DEV")
    )
    assert r.status_code == 200
    # The application as a whole gets five more days (a key project's coordination): the whole
    # stays on time while the late step is red.
    application = await approval.clock_of("application", "C-1")
    r = await approval.client.post(
        f"/api/v1/clocks/{application['clock_id']}/extensions",
        json={"working_days": 5, "reason": "重点项目协调"},
        headers=approval.supervisor(),
    )
    assert r.status_code == 200 and r.json()["due_date"] == "2026-11-16" and r.json()["yellow_on"] == "2026-11-12"
    assert r.json()["ledger"][0]["kind"] == "extension" and r.json()["ledger"][0]["by"] == "sup"
    denied = await approval.client.post(
        f"/api/v1/clocks/{application['clock_id']}/extensions",
        json={"working_days": 5, "reason": "x"},
        headers=approval.approver("PLAN"),
    )
    assert denied.status_code == 403

    approval.clock.set(date(2026, 11, 5))
    assert await approval.scan() == {"as_of": "2026-11-05", "yellow": 0, "red": 0}
    approval.clock.set(date(2026, 11, 6))
    assert await approval.scan() == {"as_of": "2026-11-06", "yellow": 2, "red": 0}
    assert (await approval.scan())["yellow"] == 0, "a card is raised once per clock and color"
    yellow = await approval.wait_events("approval.card.raised", 2, application_no="C-1", color="yellow")
    assert {(e.data["clock_kind"], e.data["ref"]) for e in yellow} == {("task", plan["task_id"]), ("stage", "C-1#2")}
    assert all(e.data["due_date"] == "2026-11-09" and e.data["department"] == "PLAN" for e in yellow)
    [listed] = await approval.open_tasks_now("PLAN", "C-1")
    assert listed["card"] == "yellow"

    approval.clock.set(date(2026, 11, 10))
    assert await approval.scan() == {"as_of": "2026-11-10", "yellow": 0, "red": 2}
    red = await approval.wait_events("approval.card.raised", 2, application_no="C-1", color="red")
    assert {e.data["clock_kind"] for e in red} == {"task", "stage"}
    [listed] = await approval.open_tasks_now("PLAN", "C-1")
    assert listed["card"] == "red"

    cards = await approval.client.get(
        "/api/v1/supervision/cards", params={"color": "red"}, headers=approval.supervisor()
    )
    assert cards.status_code == 200
    items = cards.json()["items"]
    assert {(c["clock_kind"], c["clock"]["status"]) for c in items} == {("task", "running"), ("stage", "running")}
    assert all(c["clock"]["card"] == "red" and c["application_no"] == "C-1" for c in items)
    every = await approval.client.get("/api/v1/supervision/cards", params={"limit": 3}, headers=approval.supervisor())
    assert len(every.json()["items"]) == 3 and every.json()["next_cursor"]
    rest = await approval.client.get(
        "/api/v1/supervision/cards", params={"cursor": every.json()["next_cursor"]}, headers=approval.supervisor()
    )
    assert len(rest.json()["items"]) == 1
    assert (
        await approval.client.get("/api/v1/supervision/cards", headers=approval.approver("PLAN"))
    ).status_code == 403

    r = await approval.client.post(
        f"/api/v1/tasks/{plan['task_id']}/decision", json={"decision": "approve"}, headers=approval.approver("PLAN")
    )
    assert r.status_code == 200 and r.json()["application_status"] == "approved"
    closed = await approval.wait_events("approval.clock.closed", 4, application_no="C-1")
    on_time = {e.data["clock_kind"] + ":" + e.data["ref"]: e.data["on_time"] for e in closed}
    assert on_time == {
        f"task:{dev['task_id']}": True,
        f"task:{plan['task_id']}": False,
        "stage:C-1#2": False,
        "application:C-1": True,
    }
    summary = await approval.client.get("/api/v1/supervision/summary", headers=approval.supervisor())
    assert summary.status_code == 200
    by_department = {d["department"]: d for d in summary.json()["departments"]}
    assert by_department["PLAN"]["red_cards"] == 2 and by_department["PLAN"]["yellow_cards"] == 2
    assert by_department["PLAN"]["on_time_rate"] == 0.0 and by_department["DEV"]["on_time_rate"] == 1.0
    assert summary.json()["red_cards"] == 2
    assert (await approval.scan()) == {"as_of": "2026-11-10", "yellow": 0, "red": 0}


async def test_an_overdue_clock_gets_red_without_a_yellow_first(approval: Approval) -> None:
    await approval.publish(accepted("C-2", departments=["LAND"], committed_days=2, accepted_at=at(date(2026, 11, 2))))
    [task] = await approval.open_tasks("LAND", "C-2")
    assert task["due_date"] == "2026-11-04"
    approval.clock.set(date(2026, 11, 9))
    assert await approval.scan() == {"as_of": "2026-11-09", "yellow": 0, "red": 2}
    cards = await approval.client.get(
        "/api/v1/supervision/cards", params={"kind": "task"}, headers=approval.supervisor()
    )
    assert [c["color"] for c in cards.json()["items"] if c["application_no"] == "C-2"] == ["red"]
