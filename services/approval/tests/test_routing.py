"""Routing and decisions: one task per department, all open at once; approved when all approve,
rejected at the first rejection; only the department's approvers decide; certificates."""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from typing import Any

from services.approval.tests.harness import Approval, accepted, at


async def test_single_department_main_road(approval: Approval) -> None:
    await approval.publish(accepted("A-1", departments=["LAND"], accepted_at=at(date(2026, 11, 2), 9)))
    [task] = await approval.open_tasks("LAND", "A-1")
    # Accepted Monday 2 November: five working days are Tue..Fri and Monday 9 November.
    assert task["due_date"] == "2026-11-09" and task["card"] is None and task["lead"] is True
    assert task["department"] == "LAND" and task["stage"] is None and task["provisional"] is False
    assigned = await approval.wait_events("approval.task.assigned", application_no="A-1")
    assert assigned[0].data["due_date"] == "2026-11-09"
    opened = await approval.wait_events("approval.clock.opened", 2, application_no="A-1")
    assert {e.data["clock_kind"] for e in opened} == {"task", "application"}

    approval.clock.set(date(2026, 11, 5))
    r = await approval.client.post(
        f"/api/v1/tasks/{task['task_id']}/decision",
        json={"decision": "approve", "opinion": "同意"},
        headers=approval.approver("LAND"),
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["application_status"] == "approved" and body["task"]["status"] == "approved"
    [approved] = await approval.wait_events("approval.application.approved", application_no="A-1")
    assert approved.data["working_days_used"] == 3 and approved.data["departments"] == ["LAND"]
    [issued] = await approval.wait_events("approval.certificate.issued", application_no="A-1")
    assert issued.data["certificate_no"] == body["certificate_no"]
    assert issued.data["holder_id_number"] == "370602198501010012" and issued.data["holder_name"] == "张三丰"
    assert issued.data["issued_on"] == "2026-11-05"
    closed = await approval.wait_events("approval.clock.closed", 2, application_no="A-1")
    assert all(e.data["on_time"] for e in closed)

    no, code = issued.data["certificate_no"], issued.data["verification_code"]
    good = await approval.client.get(f"/api/v1/certificates/{no}/verify", params={"code": code})
    assert good.status_code == 200 and good.json()["valid"] is True
    assert good.json()["holder_name"] == "张*丰" and good.json()["item_code"] == "ITEM-1"
    assert "370602198501010012" not in good.text
    bad = await approval.client.get(f"/api/v1/certificates/{no}/verify", params={"code": "WRONG12345"})
    assert bad.status_code == 200 and bad.json() == {
        "certificate_no": no,
        "valid": False,
        "item_code": None,
        "item_name": None,
        "holder_name": None,
        "holder_id_number": None,
        "department": None,
        "issued_on": None,
    }
    unknown = await approval.client.get("/api/v1/certificates/OWC-NOPE/verify", params={"code": code})
    assert unknown.status_code == 404
    assert (await approval.client.get(f"/api/v1/certificates/{no}/verify")).status_code == 422


async def test_parallel_approval_in_any_order(approval: Approval) -> None:
    departments = ["DEV", "PLAN", "LAND"]
    await approval.publish(
        accepted(
            "P-1", departments=departments, lead="PLAN", accepted_at=at(date(2026, 11, 2)), project_no="PRJ-1", stage=2
        )
    )
    tasks = {d: (await approval.open_tasks(d, "P-1"))[0] for d in departments}
    assert {d: t["lead"] for d, t in tasks.items()} == {"DEV": False, "PLAN": True, "LAND": False}
    assert all(t["stage"] == 2 and t["status"] == "open" for t in tasks.values())
    opened = await approval.wait_events("approval.clock.opened", 5, application_no="P-1")
    assert sorted(e.data["clock_kind"] for e in opened) == ["application", "stage", "task", "task", "task"]
    [stage] = [e for e in opened if e.data["clock_kind"] == "stage"]
    assert stage.data["ref"] == "P-1#2" and stage.data["project_no"] == "PRJ-1"

    for department in ("LAND", "DEV"):
        r = await approval.client.post(
            f"/api/v1/tasks/{tasks[department]['task_id']}/decision",
            json={"decision": "approve", "opinion": "同意"},
            headers=approval.approver(department),
        )
        assert r.status_code == 200 and r.json()["application_status"] == "in_review"
    assert approval.of("approval.application.approved", application_no="P-1") == []
    r = await approval.client.post(
        f"/api/v1/tasks/{tasks['PLAN']['task_id']}/decision",
        json={"decision": "approve", "opinion": ""},
        headers=approval.approver("PLAN"),
    )
    assert r.status_code == 200 and r.json()["application_status"] == "approved"
    [approved] = await approval.wait_events("approval.application.approved", application_no="P-1")
    assert approved.data["project_no"] == "PRJ-1" and approved.data["stage"] == 2
    assert sorted(approved.data["departments"]) == sorted(departments)
    decided = await approval.wait_events("approval.task.decided", 3, application_no="P-1")
    assert {e.data["department"] for e in decided} == set(departments)
    await approval.wait_events("approval.certificate.issued", application_no="P-1")


async def test_a_rejection_stops_the_other_departments(approval: Approval) -> None:
    departments = ["DEV", "PLAN", "LAND"]
    await approval.publish(accepted("P-2", departments=departments, lead="DEV", accepted_at=at(date(2026, 11, 2))))
    tasks = {d: (await approval.open_tasks(d, "P-2"))[0] for d in departments}
    r = await approval.client.post(
        f"/api/v1/tasks/{tasks['DEV']['task_id']}/decision",
        json={"decision": "approve", "opinion": "同意"},
        headers=approval.approver("DEV"),
    )
    assert r.status_code == 200
    no_reason = await approval.client.post(
        f"/api/v1/tasks/{tasks['PLAN']['task_id']}/decision",
        json={"decision": "reject", "opinion": "  "},
        headers=approval.approver("PLAN"),
    )
    assert no_reason.status_code == 422
    r = await approval.client.post(
        f"/api/v1/tasks/{tasks['PLAN']['task_id']}/decision",
        json={"decision": "reject", "opinion": "规划条件不符"},
        headers=approval.approver("PLAN"),
    )
    assert r.status_code == 200 and r.json()["application_status"] == "rejected"
    [rejected] = await approval.wait_events("approval.application.rejected", application_no="P-2")
    assert rejected.data["department"] == "PLAN" and rejected.data["reason"] == "规划条件不符"
    [cancelled] = await approval.wait_events("approval.task.cancelled", application_no="P-2")
    assert cancelled.data["department"] == "LAND" and "规划条件不符" in cancelled.data["reason"]
    late = await approval.client.post(
        f"/api/v1/tasks/{tasks['LAND']['task_id']}/decision",
        json={"decision": "approve", "opinion": "同意"},
        headers=approval.approver("LAND"),
    )
    assert late.status_code == 409
    assert await approval.open_tasks_now("LAND", "P-2") == []
    closed = await approval.wait_events("approval.clock.closed", 4, application_no="P-2")
    assert {e.data["outcome"] for e in closed} == {"approved", "rejected", "cancelled"}
    assert approval.of("approval.certificate.issued", application_no="P-2") == []


async def test_only_the_departments_approvers_decide(approval: Approval) -> None:
    await approval.publish(accepted("A-3", departments=["LAND"], accepted_at=at(date(2026, 11, 2))))
    [task] = await approval.open_tasks("LAND", "A-3")
    url = f"/api/v1/tasks/{task['task_id']}/decision"
    approve = {"decision": "approve", "opinion": "同意"}

    other = await approval.client.post(url, json=approve, headers=approval.approver("PLAN"))
    assert other.status_code == 403 and other.headers["content-type"] == "application/problem+json"
    assert await approval.open_tasks_now("PLAN", "A-3") == []
    peek = await approval.client.get(f"/api/v1/tasks/{task['task_id']}", headers=approval.approver("PLAN"))
    assert peek.status_code == 403
    supervisor = await approval.client.post(url, json=approve, headers=approval.supervisor())
    assert supervisor.status_code == 403
    citizen = {"Authorization": f"Bearer {approval.keys.citizen('370602198501010012')}"}
    assert (await approval.client.get("/api/v1/tasks", headers=citizen)).status_code == 403
    assert (await approval.client.get("/api/v1/tasks")).status_code == 401
    missing = await approval.client.post("/api/v1/tasks/nope/decision", json=approve, headers=approval.approver("LAND"))
    assert missing.status_code == 404
    everything = await approval.client.get("/api/v1/tasks", headers=approval.supervisor())
    assert task["task_id"] in {t["task_id"] for t in everything.json()["items"]}

    key = {"Idempotency-Key": "decide-A-3"}
    first = await approval.client.post(url, json=approve, headers=approval.approver("LAND") | key)
    again = await approval.client.post(url, json=approve, headers=approval.approver("LAND") | key)
    assert first.status_code == again.status_code == 200 and first.json() == again.json()
    assert again.headers.get("idempotent-replayed") == "true"
    twice = await approval.client.post(url, json=approve, headers=approval.approver("LAND"))
    assert twice.status_code == 409
    await approval.wait_events("approval.application.approved", application_no="A-3")
    assert len(approval.of("approval.task.decided", application_no="A-3")) == 1


async def test_simultaneous_last_approvals_approve_exactly_once(approval: Approval) -> None:
    departments = ["D1", "D2", "D3", "D4"]
    await approval.publish(accepted("P-5", departments=departments, lead="D1", accepted_at=at(date(2026, 11, 2))))
    tasks = {d: (await approval.open_tasks(d, "P-5"))[0] for d in departments}
    results = await asyncio.gather(
        *(
            approval.client.post(
                f"/api/v1/tasks/{tasks[d]['task_id']}/decision",
                json={"decision": "approve", "opinion": "同意"},
                headers=approval.approver(d),
            )
            for d in departments
        )
    )
    assert [r.status_code for r in results] == [200] * 4
    assert sorted(r.json()["application_status"] for r in results) == ["approved"] + ["in_review"] * 3
    await approval.wait_events("approval.application.approved", application_no="P-5")
    await approval.wait_events("approval.task.decided", 4, application_no="P-5")
    await approval.settled()  # a duplicate would have been written before the sentinel's event
    assert len(approval.of("approval.application.approved", application_no="P-5")) == 1
    assert len(approval.of("approval.certificate.issued", application_no="P-5")) == 1


async def test_the_holder_and_staff_read_the_certificate(approval: Approval) -> None:
    await approval.publish(
        accepted("A-6", departments=["LAND"], accepted_at=at(date(2026, 11, 2)), id_number="370602198501010039")
    )
    [task] = await approval.open_tasks("LAND", "A-6")
    r = await approval.client.post(
        f"/api/v1/tasks/{task['task_id']}/decision", json={"decision": "approve"}, headers=approval.approver("LAND")
    )
    no = r.json()["certificate_no"]
    holder = {"Authorization": f"Bearer {approval.keys.citizen('370602198501010039')}"}
    other = {"Authorization": f"Bearer {approval.keys.citizen('370602198501010047')}"}
    mine = await approval.client.get(f"/api/v1/certificates/{no}", headers=holder)
    assert mine.status_code == 200 and mine.json()["application_no"] == "A-6"
    code = mine.json()["verification_code"]
    assert len(code) == 10
    assert (await approval.client.get(f"/api/v1/certificates/{no}", headers=other)).status_code == 403
    assert (await approval.client.get(f"/api/v1/certificates/{no}", headers=approval.supervisor())).status_code == 200
    assert (await approval.client.get(f"/api/v1/certificates/{no}")).status_code == 401
    # The code is forgiving about case and spacing as printed.
    spaced = f"{code[:5].lower()} {code[5:]}"
    check = await approval.client.get(f"/api/v1/certificates/{no}/verify", params={"code": spaced})
    assert check.json()["valid"] is True


def same_task(decided: dict[str, Any], fresh: dict[str, Any]) -> bool:
    """A decision's task equals a later read of it (``decided_at`` as the same instant: the
    decision echoes the service clock's offset, +08:00 in these tests, a read gives UTC)."""

    def instant(v: str | None) -> datetime | None:
        return None if v is None else datetime.fromisoformat(v)

    rest = {k: v for k, v in decided.items() if k != "decided_at"}
    return rest == {k: v for k, v in fresh.items() if k != "decided_at"} and instant(decided["decided_at"]) == instant(
        fresh["decided_at"]
    )


async def test_the_decision_shows_the_task_as_a_read_does(approval: Approval) -> None:
    departments = ["DEV", "PLAN"]
    await approval.publish(accepted("P-7", departments=departments, lead="DEV", accepted_at=at(date(2026, 11, 2))))
    await approval.publish(accepted("P-8", departments=departments, lead="DEV", accepted_at=at(date(2026, 11, 2))))
    tasks = {(no, d): (await approval.open_tasks(d, no))[0] for no in ("P-7", "P-8") for d in departments}
    approval.clock.set(date(2026, 11, 4))
    steps = (
        ("P-7", "DEV", "approve"),
        ("P-7", "PLAN", "approve"),
        ("P-8", "DEV", "approve"),
        ("P-8", "PLAN", "reject"),
    )
    for no, department, decision in steps:
        task_id = tasks[(no, department)]["task_id"]
        r = await approval.client.post(
            f"/api/v1/tasks/{task_id}/decision",
            json={"decision": decision, "opinion": "意见"},
            headers=approval.approver(department),
        )
        assert r.status_code == 200, r.text
        fresh = await approval.client.get(f"/api/v1/tasks/{task_id}", headers=approval.approver(department))
        assert fresh.status_code == 200
        assert same_task(r.json()["task"], fresh.json()), (r.json()["task"], fresh.json())
        assert r.json()["application_status"] == fresh.json()["application_status"]
    statuses = {
        t["department"]: t["status"]
        for t in (
            await approval.client.get("/api/v1/tasks", params={"application_no": "P-8"}, headers=approval.supervisor())
        ).json()["items"]
    }
    assert statuses == {"DEV": "approved", "PLAN": "rejected"}


async def test_a_repeated_acceptance_routes_nothing(approval: Approval) -> None:
    await approval.publish(accepted("A-9", departments=["LAND"], accepted_at=at(date(2026, 11, 2))))
    [task] = await approval.open_tasks("LAND", "A-9")
    await approval.wait_events("approval.clock.opened", 2, application_no="A-9")
    # The same application accepted again (another event id, another item): nothing new is routed.
    await approval.publish(accepted("A-9", departments=["LAND", "PLAN"], accepted_at=at(date(2026, 11, 3))))
    await approval.publish(accepted("A-10", departments=["LAND"], accepted_at=at(date(2026, 11, 3))))
    await approval.open_tasks("LAND", "A-10")  # handled after the repeat (one stream, in order)
    await approval.wait_events("approval.clock.opened", 2, application_no="A-10")  # relayed after it too
    r = await approval.client.get("/api/v1/tasks", params={"application_no": "A-9"}, headers=approval.supervisor())
    assert [t["task_id"] for t in r.json()["items"]] == [task["task_id"]]
    assert len(approval.of("approval.clock.opened", application_no="A-9")) == 2
    assert len(approval.of("approval.task.assigned", application_no="A-9")) == 1
