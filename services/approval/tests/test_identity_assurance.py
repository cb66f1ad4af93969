"""Verified identity (issue 18): a self-declared holder is refused the certificate bound to its
number; anyone may still check a certificate is genuine and read the working calendar."""

from __future__ import annotations

from datetime import date

from services.approval.tests.harness import Approval, accepted, at

HOLDER = "370602198501010055"


async def test_a_self_declared_holder_is_refused_the_certificate_but_may_verify_it(approval: Approval) -> None:
    await approval.publish(
        accepted("A-ID-1", departments=["LAND"], accepted_at=at(date(2026, 11, 2)), id_number=HOLDER)
    )
    [task] = await approval.open_tasks("LAND", "A-ID-1")
    r = await approval.client.post(
        f"/api/v1/tasks/{task['task_id']}/decision", json={"decision": "approve"}, headers=approval.approver("LAND")
    )
    no = r.json()["certificate_no"]
    squatter = {"Authorization": f"Bearer {approval.keys.self_declared(HOLDER)}"}
    holder = {"Authorization": f"Bearer {approval.keys.citizen(HOLDER)}"}

    refused = await approval.client.get(f"/api/v1/certificates/{no}", headers=squatter)
    assert refused.status_code == 403 and refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["type"].endswith("identity-not-verified")
    assert "verification_code" not in refused.text
    unknown = await approval.client.get("/api/v1/certificates/OWC-NOPE", headers=squatter)
    assert unknown.status_code == 403 and unknown.json()["type"].endswith("identity-not-verified")

    mine = await approval.client.get(f"/api/v1/certificates/{no}", headers=holder)
    assert mine.status_code == 200, mine.text
    code = mine.json()["verification_code"]
    check = await approval.client.get(f"/api/v1/certificates/{no}/verify", params={"code": code}, headers=squatter)
    assert check.status_code == 200 and check.json()["valid"] is True
    assert (await approval.client.get("/api/v1/calendar/2026", headers=squatter)).status_code == 200
