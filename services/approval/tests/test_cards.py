"""Yellow and red cards per task, per stage and per application, raised once each by the scan,
published, listed for supervisors and counted in the summary; time moves without sleeping."""

from __future__ import annotations

from datetime import date

from services.approval.tests.harness import Approval, accepted, at


async def test_yellow_then_red_per_task_and_per_stage(alone: Approval) -> None:
    # Stage 2 of a project, two departments, 5 working days from Monday 2 November: due Monday 9;
    # yellow from the 4th working day (one day left, 80% used): Friday 6.
    await alone.publish(
        accepted(
            "C-1",
            departments=["DEV", "PLAN"],
            lead="PLAN",
            accepted_at=at(date(2026, 11, 2)),
            project_no="PRJ-9",
            stage=2,
        )
    )
    dev = (await alone.open_tasks("DEV", "C-1"))[0]
    plan = (await alone.open_tasks("PLAN", "C-1"))[0]
    alone.clock.set(date(2026, 11, 3))
    r = await alone.client.post(
        f"/api/v1/tasks/{dev['task_id']}/decision", json={"decision": "approve"}, headers=alone.approver("DEV")
    )
    assert r.status_code == 200
    # The application as a whole gets five more days (a key project's coordination): the whole
    # stays on time while the late step is red.
    application = await alone.clock_of("application", "C-1")
    extension = {"working_days": 5, "reason": "重点项目协调"}
    url = f"/api/v1/clocks/{application['clock_id']}/extensions"
    key = {"Idempotency-Key": "ext-C-1"}
    r = await alone.client.post(url, json=extension, headers=alone.supervisor() | key)
    assert r.status_code == 200 and r.json()["due_date"] == "2026-11-16" and r.json()["yellow_on"] == "2026-11-12"
    again = await alone.client.post(url, json=extension, headers=alone.supervisor() | key)
    assert again.json() == r.json() and again.json()["extension_days"] == 5, "a retried request extends once"
    assert r.json()["ledger"][0]["kind"] == "extension" and r.json()["ledger"][0]["by"] == "sup"
    denied = await alone.client.post(
        f"/api/v1/clocks/{application['clock_id']}/extensions",
        json={"working_days": 5, "reason": "x"},
        headers=alone.approver("PLAN"),
    )
    assert denied.status_code == 403

    # The counter is the process's own (other tests in it may have raised cards): compare deltas.
    counted_before = await alone.cards_counted()
    alone.clock.set(date(2026, 11, 5))
    assert await alone.scan() == {"as_of": "2026-11-05", "yellow": 0, "red": 0}
    alone.clock.set(date(2026, 11, 6))
    assert await alone.scan() == {"as_of": "2026-11-06", "yellow": 2, "red": 0}
    assert (await alone.scan())["yellow"] == 0, "a card is raised once per clock and color"
    yellow = await alone.wait_events("approval.card.raised", 2, application_no="C-1", color="yellow")
    assert {(e.data["clock_kind"], e.data["ref"]) for e in yellow} == {("task", plan["task_id"]), ("stage", "C-1#2")}
    assert all(e.data["due_date"] == "2026-11-09" and e.data["department"] == "PLAN" for e in yellow)
    [listed] = await alone.open_tasks_now("PLAN", "C-1")
    assert listed["card"] == "yellow"

    alone.clock.set(date(2026, 11, 10))
    assert await alone.scan() == {"as_of": "2026-11-10", "yellow": 0, "red": 2}
    red = await alone.wait_events("approval.card.raised", 2, application_no="C-1", color="red")
    assert {e.data["clock_kind"] for e in red} == {"task", "stage"}
    [listed] = await alone.open_tasks_now("PLAN", "C-1")
    assert listed["card"] == "red"
    counted = await alone.cards_counted()
    raised = {key: counted[key] - counted_before.get(key, 0.0) for key in counted}
    assert {key: n for key, n in raised.items() if n} == {("yellow", "PLAN"): 2, ("red", "PLAN"): 2}, (
        "operations see each card once, by colour and department"
    )

    cards = await alone.client.get("/api/v1/supervision/cards", params={"color": "red"}, headers=alone.supervisor())
    assert cards.status_code == 200
    items = cards.json()["items"]
    assert {(c["clock_kind"], c["clock"]["status"]) for c in items} == {("task", "running"), ("stage", "running")}
    assert all(c["clock"]["card"] == "red" and c["application_no"] == "C-1" for c in items)
    every = await alone.client.get("/api/v1/supervision/cards", params={"limit": 3}, headers=alone.supervisor())
    assert len(every.json()["items"]) == 3 and every.json()["next_cursor"]
    rest = await alone.client.get(
        "/api/v1/supervision/cards", params={"cursor": every.json()["next_cursor"]}, headers=alone.supervisor()
    )
    assert len(rest.json()["items"]) == 1
    assert (await alone.client.get("/api/v1/supervision/cards", headers=alone.approver("PLAN"))).status_code == 403

    r = await alone.client.post(
        f"/api/v1/tasks/{plan['task_id']}/decision", json={"decision": "approve"}, headers=alone.approver("PLAN")
    )
    assert r.status_code == 200 and r.json()["application_status"] == "approved"
    closed = await alone.wait_events("approval.clock.closed", 4, application_no="C-1")
    on_time = {e.data["clock_kind"] + ":" + e.data["ref"]: e.data["on_time"] for e in closed}
    assert on_time == {
        f"task:{dev['task_id']}": True,
        f"task:{plan['task_id']}": False,
        "stage:C-1#2": False,
        "application:C-1": True,
    }
    summary = await alone.client.get("/api/v1/supervision/summary", headers=alone.supervisor())
    assert summary.status_code == 200
    by_department = {d["department"]: d for d in summary.json()["departments"]}
    assert by_department["PLAN"]["red_cards"] == 2 and by_department["PLAN"]["yellow_cards"] == 2
    assert by_department["PLAN"]["on_time_rate"] == 0.0 and by_department["DEV"]["on_time_rate"] == 1.0
    assert summary.json()["red_cards"] == 2
    assert (await alone.scan()) == {"as_of": "2026-11-10", "yellow": 0, "red": 0}


async def test_an_overdue_clock_gets_red_without_a_yellow_first(alone: Approval) -> None:
    await alone.publish(accepted("C-2", departments=["LAND"], committed_days=2, accepted_at=at(date(2026, 11, 2))))
    [task] = await alone.open_tasks("LAND", "C-2")
    assert task["due_date"] == "2026-11-04"
    alone.clock.set(date(2026, 11, 9))
    assert await alone.scan() == {"as_of": "2026-11-09", "yellow": 0, "red": 2}
    cards = await alone.client.get("/api/v1/supervision/cards", params={"kind": "task"}, headers=alone.supervisor())
    assert [c["color"] for c in cards.json()["items"] if c["application_no"] == "C-2"] == ["red"]
