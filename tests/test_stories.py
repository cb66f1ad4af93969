"""End-to-end stories: the gateway, four services and NATS as processes, driven through HTTP."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from owtest import credit_code
from tests.e2e import (
    MAIL,
    PDF,
    Caller,
    accept,
    admin,
    application,
    approve,
    citizen,
    enterprise,
    new_item,
    open_task,
    staff,
    status_is,
    wait_for,
)
from tests.harness import ADMIN_PASSWORD, Platform

pytestmark = [pytest.mark.stack, pytest.mark.xdist_group("stack")]


def events_of(view: dict[str, Any]) -> list[str]:
    return [entry["event"] for entry in view["timeline"]]


def test_citizen_with_fee_and_deferred_material_to_mailed_certificate_and_rating(platform: Platform) -> None:
    url = platform.url
    root = admin(url, ADMIN_PASSWORD)
    dept = "E2E" + uuid.uuid4().hex[:5].upper()
    item = new_item(root, department=dept, fee_fen=5000)
    clerk = staff(url, root, "clerk")
    approver = staff(url, root, "approver", dept)
    me, _ = citizen(url, clerk=clerk)

    no = me.call(
        "POST", "/api/v1/applications", 201, json={"item_code": item, "form": {"purpose": "e2e"}, "delivery": MAIL}
    )["application_no"]
    me.call(
        "PUT", f"/api/v1/applications/{no}/materials/M1", (200, 201), files={"file": ("M1.pdf", PDF, "application/pdf")}
    )
    me.call("POST", f"/api/v1/applications/{no}/submit", (200, 201, 202))
    accepted = clerk.call(
        "POST",
        f"/api/v1/applications/{no}/acceptance",
        (200, 201),
        json={"decision": "accept", "deferred_materials": ["M2"], "reason": ""},
    )
    assert accepted["status"] == "accepted"
    assert [d["code"] for d in accepted["deferred_materials"]] == ["M2"]

    # The clock stops while the fee is unpaid; M2 missing (容缺) stops nothing: only the
    # certificate would wait for it. It shows on approval's clock.
    def suspended_clock() -> dict[str, Any] | None:
        clocks = approver.call("GET", "/api/v1/clocks", 200, params={"application_no": no, "kind": "application"})
        items = clocks["items"]
        return items[0] if items and items[0]["status"] == "suspended" else None

    clock = wait_for("the application's clock is suspended", suspended_clock, 30)

    me.call(
        "PUT",
        f"/api/v1/applications/{no}/supplements/M2",
        (200, 201),
        files={"file": ("M2.pdf", PDF, "application/pdf")},
    )
    payment = me.call(
        "POST", "/api/v1/payments", (200, 201), json={"application_no": no}, headers={"Idempotency-Key": f"pay-{no}"}
    )
    assert payment["amount_fen"] == 5000 and payment["status"] == "pending"
    again = me.call(
        "POST", "/api/v1/payments", (200, 201), json={"application_no": no}, headers={"Idempotency-Key": f"pay-{no}"}
    )
    assert again["payment_id"] == payment["payment_id"], "the same Idempotency-Key gives the same order"
    cashier = me.call("GET", payment["pay_url"], 200)
    assert "5000" in cashier.text or "50.00" in cashier.text
    me.call("POST", payment["pay_url"], (200, 201, 303))
    wait_for("paid", lambda: me.call("GET", f"/api/v1/payments/{payment['payment_id']}", 200)["status"] == "paid", 30)
    wait_for("intake sees the payment", lambda: application(me, no)["payment"]["status"] == "paid", 30)

    def resumed() -> dict[str, Any] | None:
        detail = approver.call("GET", f"/api/v1/clocks/{clock['clock_id']}", 200)
        return detail if detail["status"] == "running" and detail["ledger"] else None

    detail = wait_for("the clock runs again with a ledger of the suspension", resumed, 30)
    assert any("suspen" in str(entry).lower() for entry in detail["ledger"])
    reasons = " ".join(entry["reason"] for entry in detail["ledger"])
    assert "unpaid_fee" in reasons and "deferred_material" not in reasons, "the fee's wait, not the material's"

    approve(approver, no, "the department's task")
    view = wait_for("completed by mail", status_is(me, no, "completed"), 90)
    assert view["certificate"]["certificate_no"]
    shipments = me.call("GET", "/api/v1/shipments", 200, params={"application_no": no})["items"]
    assert len(shipments) == 1 and shipments[0]["status"] == "delivered"
    me.call("POST", "/api/v1/ratings", 201, json={"application_no": no, "score": 5, "comment": "很好"})
    me.call("POST", "/api/v1/ratings", 409, json={"application_no": no, "score": 5, "comment": "again"})

    seen = events_of(application(me, no))
    for step in (
        "intake.application.submitted",
        "intake.application.accepted",
        "intake.application.suspended",
        "intake.material.supplemented",
        "intake.application.resumed",
        "approval.application.approved",
        "approval.certificate.issued",
        "delivery.shipment.delivered",
    ):
        assert step in seen, f"{step} missing from the timeline: {seen}"
    cert = view["certificate"]
    verify = Caller(url).call(
        "GET", f"/api/v1/certificates/{cert['certificate_no']}/verify", 200, params={"code": cert["verification_code"]}
    )
    assert verify.get("valid", verify.get("genuine")) is True


def test_enterprise_investment_project_through_four_parallel_stages(platform: Platform) -> None:
    url = platform.url
    clerk = Caller(url).login("clerk", "Demo-Pass-2026!")
    approvers = {
        d: Caller(url).login(f"approver_{d.lower()}", "Demo-Pass-2026!") for d in ("DRC", "PLAN", "LAND", "HOUSING")
    }
    me, _ = enterprise(url, credit_code(), name="烟台测试建设有限公司")
    project = me.call(
        "POST", "/api/v1/projects", 201, json={"name": "测试厂房", "investment_fen": 50_000_000_00, "key_project": True}
    )
    stages = {s["stage"]: s for s in project["stages"]}
    assert sorted(stages) == [1, 2, 3, 4]

    def apply(stage: int) -> str:
        item = me.call("GET", f"/api/v1/catalog/items/{stages[stage]['item_code']}", 200)
        no: str = me.call(
            "POST",
            "/api/v1/applications",
            201,
            json={
                "item_code": item["code"],
                "project_no": project["project_no"],
                "form": {"stage": stage},
                "delivery": {"method": "window"},
            },
        )["application_no"]
        for material in item["materials"]:
            if material["critical"]:
                me.call(
                    "PUT",
                    f"/api/v1/applications/{no}/materials/{material['code']}",
                    (200, 201),
                    files={"file": ("m.pdf", PDF, "application/pdf")},
                )
        me.call("POST", f"/api/v1/applications/{no}/submit", (200, 201, 202))
        deferred = [m["code"] for m in item["materials"] if not m["critical"]]
        return no, deferred  # type: ignore[return-value]

    # Stage 2 cannot be accepted before stage 1 is approved.
    no2, deferred2 = apply(2)
    clerk.call(
        "POST",
        f"/api/v1/applications/{no2}/acceptance",
        409,
        json={"decision": "accept", "deferred_materials": deferred2, "reason": ""},
    )
    for stage in (1, 2, 3, 4):
        if stage == 2:
            no, deferred = no2, deferred2
        else:
            no, deferred = apply(stage)
        clerk.call(
            "POST",
            f"/api/v1/applications/{no}/acceptance",
            (200, 201),
            json={"decision": "accept", "deferred_materials": deferred, "reason": ""},
        )
        item = me.call("GET", f"/api/v1/catalog/items/{stages[stage]['item_code']}", 200)
        departments = item.get("departments") or [item["department"]]
        tasks = {d: wait_for(f"stage {stage} task of {d}", open_task(approvers[d], no), 30) for d in departments}
        if stage == 2:
            assert len(tasks) == 2, "planning and land resources decide stage 2 in parallel"
        for d, task in tasks.items():
            approvers[d].call(
                "POST",
                f"/api/v1/tasks/{task['task_id']}/decision",
                (200, 201),
                json={"decision": "approve", "opinion": "同意"},
            )
        wait_for(f"stage {stage} approved", status_is(me, no, "approved", "completed"), 30)

    def all_approved() -> dict[str, Any] | None:
        body = me.call("GET", f"/api/v1/projects/{project['project_no']}", 200)
        return body if all(s["status"] in ("approved", "completed") for s in body["stages"]) else None

    done = wait_for("every stage approved", all_approved, 30)
    for stage in done["stages"]:
        assert stage.get("deadline") or stage.get("due_date"), stage


def test_a_bad_review_opens_a_rectification_that_turns_yellow_and_is_published(platform: Platform) -> None:
    url = platform.url
    root = admin(url, ADMIN_PASSWORD)
    dept = "E2E" + uuid.uuid4().hex[:5].upper()
    item = new_item(root, department=dept, materials=[{"code": "M1", "name": "申请表", "critical": True}])
    clerk = staff(url, root, "clerk")
    approver = staff(url, root, "approver", dept)
    supervisor = Caller(url).login("supervisor", "Demo-Pass-2026!")
    me, _ = citizen(url, clerk=clerk)
    before = {
        row["key"]: row
        for row in Caller(url).call("GET", "/api/v1/ratings/stats", 200, params={"by": "department"})["items"]
    }
    assert dept not in before

    no = me.call("POST", "/api/v1/applications", 201, json={"item_code": item, "delivery": {"method": "window"}})[
        "application_no"
    ]
    me.call(
        "PUT", f"/api/v1/applications/{no}/materials/M1", (200, 201), files={"file": ("M1.pdf", PDF, "application/pdf")}
    )
    me.call("POST", f"/api/v1/applications/{no}/submit", (200, 201, 202))
    me.call("POST", "/api/v1/ratings", (404, 409, 422), json={"application_no": no, "score": 1, "comment": "early"})
    accept(clerk, no)
    approve(approver, no)
    wait_for("approved", status_is(me, no, "approved"), 30)

    def rate() -> Any:
        r = me.http.post(
            "/api/v1/ratings",
            json={"application_no": no, "score": 1, "comment": "等了太久"},
            headers={"Authorization": f"Bearer {me.token}"},
        )
        return r.json() if r.status_code == 201 else None

    wait_for("rating accepted once rating has seen the decision", rate, 30)

    def case() -> dict[str, Any] | None:
        items = supervisor.call("GET", "/api/v1/rectifications", 200, params={"status": "open"})["items"]
        mine = [c for c in items if c["department"] == dept]
        return mine[0] if mine and mine[0].get("due_date") else None

    opened = wait_for("a rectification with a supervision clock", case, 30)
    supervisor.call("POST", "/api/v1/supervision/scan", 200)

    def yellow() -> dict[str, Any] | None:
        got = supervisor.call("GET", f"/api/v1/rectifications/{opened['rectification_id']}", 200)
        return got if got.get("card") in ("yellow", "red") else None

    wait_for("the rectification's clock turns yellow", yellow, 30)
    cards = supervisor.call("GET", "/api/v1/supervision/cards", 200, params={"color": "yellow"})["items"]
    assert any(c.get("ref") == opened["rectification_id"] or c.get("clock_id") == opened["clock_id"] for c in cards)
    dept_head = staff(url, root, "approver", dept)
    dept_head.call(
        "POST",
        f"/api/v1/rectifications/{opened['rectification_id']}/result",
        (200, 201),
        json={"result": "已整改：增加窗口人员"},
    )
    published = Caller(url).call("GET", "/api/v1/rectifications/published", 200)["items"]
    assert any(p.get("rectification_id") == opened["rectification_id"] for p in published)
    after = {
        row["key"]: row
        for row in Caller(url).call("GET", "/api/v1/ratings/stats", 200, params={"by": "department"})["items"]
    }
    assert after[dept]["count"] == 1 and after[dept]["satisfied"] == 0


def test_a_clerk_applies_for_someone_without_an_account_and_hands_over_at_the_window(platform: Platform) -> None:
    url = platform.url
    root = admin(url, ADMIN_PASSWORD)
    dept = "E2E" + uuid.uuid4().hex[:5].upper()
    item = new_item(root, department=dept, materials=[{"code": "M1", "name": "申请表", "critical": True}])
    clerk = staff(url, root, "clerk")
    approver = staff(url, root, "approver", dept)
    from tests.e2e import resident_id

    walk_in = resident_id()
    no = clerk.call(
        "POST",
        "/api/v1/applications",
        201,
        json={
            "item_code": item,
            "applicant_id_number": walk_in,
            "applicant_name": "王大爷",
            "applicant_phone": "13900000000",
            "delivery": {"method": "window"},
        },
    )["application_no"]
    clerk.call(
        "PUT", f"/api/v1/applications/{no}/materials/M1", (200, 201), files={"file": ("M1.pdf", PDF, "application/pdf")}
    )
    clerk.call("POST", f"/api/v1/applications/{no}/submit", (200, 201, 202))
    accept(clerk, no)
    approve(approver, no)

    def ready_for_pickup() -> Any:
        r = clerk.http.get(f"/api/v1/delivery/pickups/{no}", headers={"Authorization": f"Bearer {clerk.token}"})
        return r.json() if r.status_code == 200 else None

    wait_for("the certificate waits at the window", ready_for_pickup, 30)
    clerk.call(
        "POST", f"/api/v1/delivery/pickups/{no}/complete", 422, json={"collector_id_number": "110101199003070000"}
    )
    clerk.call("POST", f"/api/v1/delivery/pickups/{no}/complete", (200, 201), json={"collector_id_number": walk_in})
    view = wait_for("completed at the window", status_is(clerk, no, "completed"), 30)
    assert "delivery.pickup.completed" in events_of(view)
    # The applicant registers later, is verified, and finds the application made for them at the window.
    later, _ = citizen(url, walk_in, name="王大爷", clerk=clerk)
    assert application(later, no)["status"] == "completed"
