"""容缺 never stops the flow, through the gateway: an application accepted with a deferred
material runs its clocks and gets its yellow card, is approved while the material is missing,
waits with no certificate, and is mailed the moment the material arrives."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.e2e import (
    MAIL,
    PDF,
    Caller,
    accept,
    admin,
    application,
    approve,
    citizen,
    new_item,
    open_task,
    staff,
    status_is,
    wait_for,
)
from tests.harness import ADMIN_PASSWORD, Platform

pytestmark = [pytest.mark.stack, pytest.mark.xdist_group("stack")]


def test_a_deferred_material_holds_the_certificate_not_the_clock(platform: Platform) -> None:
    url = platform.url
    root = admin(url, ADMIN_PASSWORD)
    dept = "DEF" + uuid.uuid4().hex[:5].upper()
    # One committed working day: the task's clock is yellow from the start (the scan runs every second).
    item = new_item(root, department=dept, committed_days=1)
    clerk = staff(url, root, "clerk")
    approver = staff(url, root, "approver", dept)
    supervisor = staff(url, root, "supervisor")
    me, _ = citizen(url, clerk=clerk)

    no = me.call(
        "POST", "/api/v1/applications", 201, json={"item_code": item, "form": {"purpose": "容缺"}, "delivery": MAIL}
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
    assert [d["code"] for d in accepted["deferred_materials"]] == ["M2"]
    assert accepted["certificate"] is None and accepted["certificate_waits_for"] == ["M2"]

    # The clocks run while M2 is missing, and the card comes.
    def carded_task() -> dict[str, Any] | None:
        task = open_task(approver, no)()
        return task if task and task.get("card") in ("yellow", "red") else None

    task = wait_for("the task's clock turns yellow while M2 is missing", carded_task, 30)
    assert task["suspended"] is False
    clocks = supervisor.call("GET", "/api/v1/clocks", 200, params={"application_no": no})["items"]
    assert clocks and {c["status"] for c in clocks} == {"running"}, clocks
    cards = supervisor.call("GET", "/api/v1/supervision/cards", 200, params={"limit": 200})["items"]
    assert any(c["application_no"] == no and c["clock_kind"] == "task" for c in cards)

    # Approved while M2 is missing: the result waits for it, and says so.
    approve(approver, no, "the department's task")
    view = wait_for("approved", status_is(me, no, "approved"), 30)
    assert view["certificate"] is None and view["certificate_waits_for"] == ["M2"]
    # The sentinel instead of a pause: a second application of the item, nothing deferred,
    # approved after this one. Approval publishes in the order it wrote, and intake and delivery
    # take its stream in order, so once the second's certificate is in intake and its shipment
    # in delivery, a certificate this one had been given would have reached them first.
    sentinel = _approved_with_nothing_deferred(me, clerk, approver, item)
    wait_for("the sentinel's certificate", lambda: application(me, sentinel)["certificate"], 60)
    wait_for("the sentinel's shipment", lambda: _shipments(me, sentinel) or None, 60)
    view = application(me, no)
    assert view["status"] == "approved" and view["certificate"] is None, "no certificate while M2 is missing"
    assert _shipments(me, no) == []

    # M2 arrives: the certificate is issued and mailed.
    me.call(
        "PUT",
        f"/api/v1/applications/{no}/supplements/M2",
        (200, 201),
        files={"file": ("M2.pdf", PDF, "application/pdf")},
    )

    def shipped() -> list[dict[str, Any]] | None:
        items: list[dict[str, Any]] = me.call("GET", "/api/v1/shipments", 200, params={"application_no": no})["items"]
        return items or None

    wait_for("a shipment once M2 arrived", shipped, 60)
    view = wait_for("completed by mail", status_is(me, no, "completed"), 90)
    assert view["certificate"]["certificate_no"] and view["certificate_waits_for"] == []
    [shipment] = me.call("GET", "/api/v1/shipments", 200, params={"application_no": no})["items"]
    assert shipment["status"] == "delivered"
    seen = [entry["event"] for entry in view["timeline"]]
    assert "intake.application.suspended" not in seen, seen
    assert seen.index("intake.material.supplemented") < seen.index("approval.certificate.issued"), seen
    assert seen.index("approval.application.approved") < seen.index("intake.material.supplemented"), seen


def _shipments(caller: Caller, no: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = caller.call("GET", "/api/v1/shipments", 200, params={"application_no": no})["items"]
    return items


def _approved_with_nothing_deferred(me: Caller, clerk: Caller, approver: Caller, item: str) -> str:
    """An application of ``item`` with every material, accepted and approved; its number."""
    no: str = me.call("POST", "/api/v1/applications", 201, json={"item_code": item, "delivery": MAIL})["application_no"]
    for code in ("M1", "M2"):
        me.call(
            "PUT",
            f"/api/v1/applications/{no}/materials/{code}",
            (200, 201),
            files={"file": (f"{code}.pdf", PDF, "application/pdf")},
        )
    me.call("POST", f"/api/v1/applications/{no}/submit", (200, 201, 202))
    accept(clerk, no)
    approve(approver, no, "the sentinel's task")
    return no
