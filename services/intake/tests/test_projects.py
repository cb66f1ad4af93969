"""Investment projects: four stages in order, deadlines and working days, the agency officer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any

import pytest

from owkernel.bus import Bus
from owkernel.contracts import EventData, encode, make_envelope
from owkernel.contracts.approval import ApplicationApproved, ClockOpened
from owkernel.contracts.intake import ApplicationAccepted
from owtest import bearer, credit_code, eventually, resident_id
from services.intake.tests.harness import Hall


@pytest.fixture
async def approval_bus(nats_url: str, namespace: str) -> AsyncIterator[Bus]:
    """The approval service's side of NATS, publishing as its outbox relay does."""
    bus = Bus(nats_url, name="approval-under-test", namespace=namespace)
    await bus.connect()
    await bus.ensure_streams()
    try:
        yield bus
    finally:
        await bus.close()


async def publish(bus: Bus, data: EventData) -> None:
    """One approval event on the wire."""
    envelope = make_envelope(data, source="approval")
    await bus.js.publish(bus.wire_subject(envelope.type), encode(envelope), headers={"Nats-Msg-Id": envelope.id})


async def new_project(hall: Hall, who: dict[str, str], **body: Any) -> dict[str, Any]:
    r = await hall.client.post(
        "/api/v1/projects", json={"name": "烟台港物流园", "investment_fen": 2_790_000_000_00} | body, headers=who
    )
    assert r.status_code == 201, r.text
    project: dict[str, Any] = r.json()
    return project


async def test_stages_in_order(hall: Hall, approval_bus: Bus) -> None:
    await hall.import_demo()
    ent = hall.enterprise(code := credit_code())
    project = await new_project(hall, ent)
    pno = project["project_no"]
    assert project["owner"] == {"id_number": code, "kind": "enterprise", "name": "烟台示范科技有限公司"}
    assert [(s["stage"], s["item_code"], s["status"]) for s in project["stages"]] == [
        (1, "INV-S1", "not_started"),
        (2, "INV-S2", "not_started"),
        (3, "INV-S3", "not_started"),
        (4, "INV-S4", "not_started"),
    ]
    assert project["stages"][1]["departments"] == ["PLAN", "LAND"] and project["stages"][1]["lead_department"] == "PLAN"
    assert project["committed_days"] == 34

    # Stage 2 is prepared early, but it is accepted only after stage 1 is approved.
    s2 = await hall.submitted(ent, "INV-S2", project_no=pno)
    r = await hall.accept(s2)
    assert r.status_code == 409 and r.headers["content-type"] == "application/problem+json"
    s1 = await hall.submitted(ent, "INV-S1", project_no=pno)
    assert (await hall.accept(s1)).status_code == 200
    assert (await hall.accept(s2)).status_code == 409, "stage 1 accepted is not stage 1 approved"
    accepted = [d for _, d in await hall.published("intake.application.accepted")]
    assert [(getattr(d, "project_no", None), getattr(d, "stage", None)) for d in accepted] == [(pno, 1)]

    await publish(
        approval_bus,
        ClockOpened(
            clock_id="c1",
            clock_kind="application",
            ref=s1,
            application_no=s1,
            started_on=date(2026, 5, 6),
            due_date=date(2026, 5, 14),
            working_days=6,
        ),
    )
    await publish(
        approval_bus,
        ApplicationApproved(
            application_no=s1,
            item_code="INV-S1",
            departments=["DRC"],
            decided_at=datetime(2026, 5, 11, 8, tzinfo=UTC),
            project_no=pno,
            stage=1,
            working_days_used=4,
        ),
    )

    async def stage_one_approved() -> dict[str, Any] | None:
        view = (await hall.client.get(f"/api/v1/projects/{pno}", headers=ent)).json()
        return view if view["stages"][0]["status"] == "approved" else None

    view = await eventually(stage_one_approved, timeout=20)
    first = view["stages"][0]
    assert first["application_no"] == s1 and first["deadline"] == "2026-05-14" and first["working_days_used"] == 4
    assert view["stages"][1]["status"] == "submitted" and view["stages"][1]["application_no"] == s2
    r = await hall.accept(s2)
    assert r.status_code == 200 and r.json()["stage"] == 2
    accepted = [d for _, d in await hall.published("intake.application.accepted")]
    assert isinstance(accepted[-1], ApplicationAccepted)
    snapshot = accepted[-1].item
    assert snapshot.departments == ["PLAN", "LAND"] and snapshot.lead_department == "PLAN"

    # Another application for a stage that has one is a conflict; an item outside the project is refused.
    r = await hall.client.post("/api/v1/applications", json={"item_code": "INV-S2", "project_no": pno}, headers=ent)
    assert r.status_code == 409
    r = await hall.client.post("/api/v1/applications", json={"item_code": "MARKET-001", "project_no": pno}, headers=ent)
    assert r.status_code == 422
    r = await hall.client.post("/api/v1/applications", json={"item_code": "INV-S3", "project_no": "PRJ-0"}, headers=ent)
    assert r.status_code == 422
    other = hall.enterprise(credit_code())
    r = await hall.client.post("/api/v1/applications", json={"item_code": "INV-S3", "project_no": pno}, headers=other)
    assert r.status_code == 403
    assert (await hall.client.get(f"/api/v1/projects/{pno}", headers=other)).status_code == 403
    assert (await hall.client.get("/api/v1/projects/PRJ-2000-000001", headers=ent)).status_code == 404
    mine = (await hall.client.get("/api/v1/projects", headers=ent)).json()["items"]
    assert [p["project_no"] for p in mine] == [pno]
    assert (await hall.client.get("/api/v1/projects", headers=other)).json()["items"] == []


async def test_key_project_agency_officer(hall: Hall) -> None:
    await hall.import_demo()
    ent = hall.enterprise(code := credit_code())
    agency = {"officer": "officer_li", "lead_department": "DRC", "coordinating_office": "重点项目代办中心"}
    r = await hall.client.post(
        "/api/v1/projects", json={"name": "x", "investment_fen": 1, "key_project": True, "agency": agency}, headers=ent
    )
    assert r.status_code == 403, "the hall names the officer, not the applicant"
    r = await hall.client.post(
        "/api/v1/projects",
        json={"name": "x", "investment_fen": 1, "agency": agency, "applicant_id_number": code},
        headers=hall.clerk,
    )
    assert r.status_code == 422, "agency service is for key projects"
    project = await new_project(hall, hall.clerk, key_project=True, agency=agency, applicant_id_number=code)
    pno = project["project_no"]
    assert project["agency"] == agency | {"departments": []} and project["owner"]["kind"] == "enterprise"

    # The officer acts for the applicant: applies, uploads, submits, reads.
    officer = bearer(hall.keys.staff("officer_li"))
    no = await hall.submitted(officer, "INV-S1", project_no=pno)
    view = await hall.view(no, officer)
    assert view["applicant"]["id_number"] == code and view["channel"] == "window"
    assert (await hall.client.get(f"/api/v1/applications/{no}", headers=ent)).status_code == 200
    # Another staff member without a role is nobody's agent.
    stranger = bearer(hall.keys.staff("officer_wang"))
    assert (await hall.client.get(f"/api/v1/applications/{no}", headers=stranger)).status_code == 403
    r = await hall.client.post(
        "/api/v1/applications", json={"item_code": "INV-S2", "project_no": pno}, headers=stranger
    )
    assert r.status_code == 403
    # The hall can hand the project to another officer.
    r = await hall.client.put(
        f"/api/v1/projects/{pno}/agency", json=agency | {"officer": "officer_wang"}, headers=hall.clerk
    )
    assert r.status_code == 200 and r.json()["agency"]["officer"] == "officer_wang"
    assert (await hall.client.get(f"/api/v1/applications/{no}", headers=stranger)).status_code == 200
    assert (await hall.client.get(f"/api/v1/applications/{no}", headers=officer)).status_code == 403
    plain = await new_project(hall, hall.enterprise(credit_code()))
    r = await hall.client.put(f"/api/v1/projects/{plain['project_no']}/agency", json=agency, headers=hall.clerk)
    assert r.status_code == 409


async def test_project_needs_all_four_stages_in_the_catalog(hall: Hall) -> None:
    await hall.add_item(code="ONLY-1", stage=1, window="investment")
    r = await hall.client.post(
        "/api/v1/projects", json={"name": "x", "investment_fen": 1}, headers=hall.citizen(resident_id())
    )
    assert r.status_code == 409 and "2, 3, 4" in r.json()["detail"]
    r = await hall.client.post(
        "/api/v1/projects", json={"name": "x", "investment_fen": 1}, headers=hall.approver("DRC")
    )
    assert r.status_code == 403
    r = await hall.client.post("/api/v1/projects", json={"name": "", "investment_fen": -1}, headers=hall.clerk)
    assert r.status_code == 422


async def test_a_deleted_stage_draft_frees_the_stage(hall: Hall) -> None:
    await hall.import_demo()
    ent = hall.enterprise(credit_code())
    pno = (await new_project(hall, ent))["project_no"]
    first = await hall.apply(ent, "INV-S1", project_no=pno)
    r = await hall.client.post("/api/v1/applications", json={"item_code": "INV-S1", "project_no": pno}, headers=ent)
    assert r.status_code == 409, "the stage has its application"
    r = await hall.client.delete(f"/api/v1/applications/{first['application_no']}", headers=ent)
    assert r.status_code == 204, r.text
    again = await hall.apply(ent, "INV-S1", project_no=pno)
    project = (await hall.client.get(f"/api/v1/projects/{pno}", headers=ent)).json()
    assert project["stages"][0]["application_no"] == again["application_no"]
