"""What intake publishes for the published figures: the channel, a project's investment, secret items
and every catalog version."""

from __future__ import annotations

from typing import Any

from owkernel.contracts.intake import ApplicationAccepted, CatalogItemChanged
from owtest import credit_code, resident_id
from services.intake.tests.harness import Hall


async def accepted_events(hall: Hall) -> dict[str, ApplicationAccepted]:
    out: dict[str, ApplicationAccepted] = {}
    for _, data in await hall.published("intake.application.accepted"):
        assert isinstance(data, ApplicationAccepted)
        out[data.application_no] = data
    return out


async def test_every_catalog_version_is_published_and_an_item_may_be_secret(hall: Hall) -> None:
    secret = await hall.add_item(code="SEC-1", secret=True)
    plain = await hall.add_item()
    assert (secret["secret"], plain["secret"]) == (True, False)
    r = await hall.client.delete("/api/v1/catalog/items/SEC-1", headers=hall.admin)
    assert r.status_code == 200, r.text
    csv = (
        "code,name,kind,department,departments,lead_department,window,legal_days,committed_days,trips,online,"
        "fee_fen,stage,materials,secret\n"
        "CSV-S,涉密事项,licensing,PUBSEC,,,general,10,5,1,no,0,,ID|身份证|critical,yes\n"
        "CSV-P,并联事项,licensing,,PLAN;LAND,PLAN,investment,30,12,1,yes,0,2,APPLY|申请表|critical,\n"
    )
    r = await hall.client.post(
        "/api/v1/catalog/import", headers=hall.admin, files={"file": ("c.csv", csv.encode(), "text/csv")}
    )
    assert r.status_code == 200, r.text
    got = (await hall.client.get("/api/v1/catalog/items/CSV-S")).json()
    assert got["secret"] is True

    changes = [d for _, d in await hall.published("intake.catalog_item.changed")]
    assert all(isinstance(d, CatalogItemChanged) for d in changes)
    seen = [(d.item.code, d.item.version, d.status, d.item.secret, d.stage) for d in changes]  # type: ignore[attr-defined]
    assert seen == [
        ("SEC-1", 1, "active", True, None),
        ("T-001", 1, "active", False, None),
        ("SEC-1", 2, "cancelled", True, None),
        ("CSV-S", 1, "active", True, None),
        ("CSV-P", 1, "active", False, 2),
    ]
    parallel = changes[-1]
    assert isinstance(parallel, CatalogItemChanged)
    assert (parallel.item.departments, parallel.item.lead_department, parallel.item.committed_days) == (
        ["PLAN", "LAND"],
        "PLAN",
        12,
    )


async def test_the_acceptance_tells_the_channel_secrecy_and_the_projects_investment(hall: Hall) -> None:
    await hall.add_item()
    await hall.add_item(code="SEC-1", secret=True)
    online = await hall.submitted(hall.citizen(resident_id()))
    secret = await hall.submitted(hall.citizen(resident_id()), "SEC-1")
    walk_in: dict[str, Any] = await hall.apply(hall.clerk, applicant_id_number=resident_id(), applicant_name="李四")
    no = walk_in["application_no"]
    assert (await hall.upload(hall.clerk, no, "M1")).status_code == 201
    assert (await hall.client.post(f"/api/v1/applications/{no}/submit", headers=hall.clerk)).status_code == 200
    for each in (online, secret, no):
        assert (await hall.accept(each)).status_code == 200

    await hall.import_demo()
    ent = hall.enterprise(credit_code())
    r = await hall.client.post(
        "/api/v1/projects",
        json={"name": "港区物流园", "investment_fen": 2_790_000_000_00, "key_project": True},
        headers=ent,
    )
    assert r.status_code == 201, r.text
    pno = r.json()["project_no"]
    stage1 = await hall.submitted(ent, "INV-S1", project_no=pno)
    assert (await hall.accept(stage1)).status_code == 200

    events = await accepted_events(hall)
    assert (events[online].channel, events[online].item.secret) == ("online", False)
    assert (events[secret].channel, events[secret].item.secret) == ("online", True)
    assert events[no].channel == "window"
    assert (events[online].project_investment_fen, events[online].project_key) == (None, None)
    project = events[stage1]
    assert (project.project_no, project.project_investment_fen, project.project_key) == (pno, 2_790_000_000_00, True)
