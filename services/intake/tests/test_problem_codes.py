"""What a console needs from intake's problems (issue 25): a stable code and the names to show; and
who may open an application's materials (the approvers of its departments, no others)."""

from __future__ import annotations

from owtest import resident_id
from services.intake.tests.harness import PDF, Hall

PARALLEL_ITEM = {
    "code": "T-PAR",
    "department": None,
    "departments": ["MARKET", "HEALTH"],
    "lead_department": "MARKET",
    "materials": [
        {"code": "HUKOU", "name": "居民户口簿", "critical": True},
        {"code": "PHOTO", "name": "场地照片", "critical": False},
    ],
}


async def test_submit_names_the_missing_critical_materials(hall: Hall) -> None:
    await hall.add_item(**PARALLEL_ITEM)
    me = hall.citizen(resident_id())
    no = (await hall.apply(me, "T-PAR"))["application_no"]
    r = await hall.client.post(f"/api/v1/applications/{no}/submit", headers=me)
    assert r.status_code == 422
    problem = r.json()
    assert problem["code"] == "critical_materials_missing"
    assert problem["detail"] == "Critical materials are missing: HUKOU."
    assert problem["errors"] == [
        {
            "field": "materials.HUKOU",
            "message": "critical material missing",
            "code": "critical_material_missing",
            "params": {"material_code": "HUKOU", "material_name": "居民户口簿"},
        }
    ]


async def test_upload_problems_have_codes(hall: Hall) -> None:
    await hall.add_item()
    me = hall.citizen(resident_id())
    no = (await hall.apply(me))["application_no"]
    r = await hall.upload(me, no, "M1", b"GIF89a not a material")
    assert r.status_code == 415 and r.json()["code"] == "material_file_type"
    assert r.json()["allowed"] == ["application/pdf", "image/jpeg", "image/png"]
    r = await hall.upload(me, no, "M1", b"")
    assert r.status_code == 422 and r.json()["code"] == "material_file_empty"
    r = await hall.upload(me, no, "NOPE", PDF)
    assert r.status_code == 404 and r.json()["code"] == "material_unknown"
    assert r.json()["material_code"] == "NOPE"


async def test_acceptance_names_what_stands_in_the_way(hall: Hall) -> None:
    await hall.add_item(**PARALLEL_ITEM)
    me = hall.citizen(resident_id())
    no = await hall.submitted(me, "T-PAR")
    r = await hall.client.post(
        f"/api/v1/applications/{no}/acceptance",
        json={"decision": "accept", "deferred_materials": ["HUKOU"], "reason": ""},
        headers=hall.clerk,
    )
    assert r.status_code == 422 and r.json()["code"] == "acceptance_refused_as_it_stands"
    [error] = r.json()["errors"]
    assert error["code"] == "critical_material_not_deferrable"
    assert error["params"] == {"material_code": "HUKOU", "material_name": "居民户口簿"}
    r = await hall.client.post(
        f"/api/v1/applications/{no}/acceptance", json={"decision": "return", "reason": ""}, headers=hall.clerk
    )
    assert r.status_code == 422 and r.json()["code"] == "reason_required"
    assert r.json()["errors"][0]["code"] == "missing"


async def test_approvers_of_its_departments_read_its_materials(hall: Hall) -> None:
    await hall.add_item(**PARALLEL_ITEM)
    me = hall.citizen(resident_id())
    no = await hall.submitted(me, "T-PAR")
    assert (await hall.accept(no)).status_code == 200
    path = f"/api/v1/applications/{no}/materials/HUKOU"
    # The lead department and the co-deciding one both decide: both open the file and the list.
    for department in ("MARKET", "HEALTH"):
        approver = hall.approver(department)
        r = await hall.client.get(path, headers=approver)
        assert r.status_code == 200, r.text
        assert r.content == PDF and r.headers["content-type"] == "application/pdf"
        seen = await hall.view(no, approver)
        hukou = next(m for m in seen["materials"] if m["code"] == "HUKOU")
        assert hukou["status"] == "uploaded" and hukou["name"] == "居民户口簿"
    # An approver of a department the application is not routed to reads neither.
    other = hall.approver("CIVIL")
    r = await hall.client.get(path, headers=other)
    assert r.status_code == 403 and r.json()["code"] == "application_not_routed_to_you"
    r = await hall.client.get(f"/api/v1/applications/{no}", headers=other)
    assert r.status_code == 403 and r.json()["code"] == "application_not_routed_to_you"
    # Another citizen neither.
    r = await hall.client.get(path, headers=hall.citizen(resident_id()))
    assert r.status_code == 403 and r.json()["code"] == "application_of_someone_else"


async def test_drafts_cap_and_quota_have_codes(limited_hall: Hall) -> None:
    hall = limited_hall  # three open drafts, 1000 bytes of materials per applicant
    await hall.add_item()
    me = hall.citizen(resident_id())
    drafts = [(await hall.apply(me))["application_no"] for _ in range(3)]
    r = await hall.client.post("/api/v1/applications", json={"item_code": "T-001"}, headers=me)
    assert r.status_code == 409 and r.json()["code"] == "open_drafts_limit"
    big = PDF + b"0" * (600 - len(PDF))
    assert (await hall.upload(me, drafts[0], "M1", big)).status_code == 201
    r = await hall.upload(me, drafts[1], "M1", big)
    assert r.status_code == 409 and r.json()["code"] == "materials_quota_exceeded"
