"""容缺 never stops the flow: the clocks of an application accepted with deferred materials run and
raise their cards, the departments decide, and only the certificate waits for the materials; an
overdue material is the applicant's delay (on record, reminded), not the department's."""

from __future__ import annotations

from datetime import date

from owkernel.contracts.common import DeferredMaterial
from owkernel.contracts.intake import (
    ApplicationAccepted,
    ApplicationResumed,
    ApplicationSuspended,
    ConsultationAsked,
    MaterialOverdue,
    MaterialSupplemented,
)
from owtest import eventually
from services.approval.tests.harness import Approval, accepted, at


def with_deferred(no: str, *codes: str, departments: list[str], due: date = date(2026, 11, 16)) -> ApplicationAccepted:
    """An acceptance of 2 November with ``codes`` deferred (容缺)."""
    base = accepted(no, departments=departments, accepted_at=at(date(2026, 11, 2)))
    return base.model_copy(
        update={"deferred_materials": [DeferredMaterial(code=c, name=f"材料{c}", due_date=due) for c in codes]}
    )


async def approve(approval: Approval, department: str, no: str) -> dict[str, object]:
    """The department's approver approves its task of ``no``."""
    [task] = await approval.open_tasks(department, no)
    r = await approval.client.post(
        f"/api/v1/tasks/{task['task_id']}/decision", json={"decision": "approve"}, headers=approval.approver(department)
    )
    assert r.status_code == 200, r.text
    body: dict[str, object] = r.json()
    return body


async def test_a_deferred_material_stops_no_clock_a_correction_does(approval: Approval) -> None:
    await approval.publish(with_deferred("D-1", "M2", "M3", departments=["LAND"]))
    [task] = await approval.open_tasks("LAND", "D-1")
    assert task["suspended"] is False and task["due_date"] == "2026-11-09"
    # An intake of the old rule may still announce a wait per deferred material: it stops nothing.
    await approval.publish(
        ApplicationSuspended(
            application_no="D-1", key="material:M2", reason="deferred_material", at=at(date(2026, 11, 2))
        )
    )
    await approval.publish(ApplicationResumed(application_no="D-1", key="material:M2", at=at(date(2026, 11, 3))))
    # A correction after it (published later, handled later) does stop the clock: by then the
    # deferred material's wait has been passed over.
    await approval.publish(
        ApplicationSuspended(application_no="D-1", key="correction", reason="correction", at=at(date(2026, 11, 3)))
    )

    async def suspended() -> bool:
        return bool((await approval.open_tasks_now("LAND", "D-1"))[0]["suspended"])

    await eventually(suspended)
    await approval.publish(ApplicationResumed(application_no="D-1", key="correction", at=at(date(2026, 11, 4))))
    moved = await approval.wait_events("approval.clock.rescheduled", 2, application_no="D-1")
    # Only the correction's day (Tuesday 3) counts: due Tuesday 10, not later.
    assert {e.data["due_date"] for e in moved} == {"2026-11-10"}
    clock = await approval.clock_of("application", "D-1")
    assert [e["reason"] for e in clock["ledger"]] == ["waiting for the applicant: correction (correction)"]


async def test_the_certificate_waits_for_the_last_deferred_material(approval: Approval) -> None:
    await approval.publish(with_deferred("D-5", "M2", "M3", departments=["LAND"]))
    await approval.open_tasks("LAND", "D-5")
    approval.clock.set(date(2026, 11, 5))
    decided = await approve(approval, "LAND", "D-5")
    assert decided["application_status"] == "approved" and decided["certificate_no"] is None
    await approval.wait_events("approval.application.approved", application_no="D-5")
    await approval.publish(MaterialSupplemented(application_no="D-5", material_code="M2", at=at(date(2026, 11, 6))))
    await approval.publish(MaterialSupplemented(application_no="D-5", material_code="M2", at=at(date(2026, 11, 6), 11)))
    approval.clock.set(date(2026, 11, 9))
    await approval.publish(MaterialSupplemented(application_no="D-5", material_code="M3", at=at(date(2026, 11, 9))))
    [issued] = await approval.wait_events("approval.certificate.issued", application_no="D-5")
    assert issued.data["issued_on"] == "2026-11-09"
    # Only the last material released it, once.
    assert len(approval.of("approval.certificate.issued", application_no="D-5")) == 1


async def test_an_application_whose_materials_all_arrived_gets_its_certificate_at_approval(
    approval: Approval,
) -> None:
    await approval.publish(with_deferred("D-2", "M2", departments=["LAND"]))
    await approval.open_tasks("LAND", "D-2")
    await approval.publish(MaterialSupplemented(application_no="D-2", material_code="M2", at=at(date(2026, 11, 3))))
    # Intake's events are handled in order: once the consultation after it has its clock, the
    # supplement has been taken.
    await approval.publish(
        ConsultationAsked(
            consultation_id="Q-D-2", item_code="ITEM-1", department="LAND", asked_at=at(date(2026, 11, 3))
        )
    )
    await approval.wait_events("approval.clock.opened", ref="Q-D-2")
    decided = await approve(approval, "LAND", "D-2")
    assert decided["certificate_no"]
    [issued] = await approval.wait_events("approval.certificate.issued", application_no="D-2")
    assert issued.data["certificate_no"] == decided["certificate_no"]


async def test_a_deferred_application_gets_its_cards(alone: Approval) -> None:
    await alone.publish(with_deferred("D-3", "M2", departments=["LAND"]))
    await alone.open_tasks("LAND", "D-3")
    # Five working days from Monday 2: yellow on Friday 6, red after Monday 9; the material still missing.
    alone.clock.set(date(2026, 11, 6))
    assert (await alone.scan())["yellow"] == 2
    alone.clock.set(date(2026, 11, 10))
    assert (await alone.scan())["red"] == 2
    red = await alone.wait_events("approval.card.raised", 2, application_no="D-3", color="red")
    assert {e.data["clock_kind"] for e in red} == {"task", "application"}


async def test_an_overdue_material_is_the_applicants_delay(alone: Approval) -> None:
    await alone.publish(with_deferred("D-4", "M2", departments=["LAND"], due=date(2026, 11, 4)))
    await alone.open_tasks("LAND", "D-4")
    alone.clock.set(date(2026, 11, 5))
    await approve(alone, "LAND", "D-4")
    await alone.publish(MaterialOverdue(application_no="D-4", material_code="M2", due_date=date(2026, 11, 4)))

    async def recorded() -> list[dict[str, object]]:
        r = await alone.client.get(
            "/api/v1/supervision/records", params={"kind": "material_overdue"}, headers=alone.supervisor()
        )
        assert r.status_code == 200, r.text
        items: list[dict[str, object]] = r.json()["items"]
        return items

    [record] = await eventually(recorded)
    assert record["application_no"] == "D-4" and record["department"] == "LAND"
    assert record["detail"] == {
        "material_code": "M2",
        "due_date": "2026-11-04",
        "delay_by": "applicant",
        "certificate_held": True,
    }
    r = await alone.client.get("/api/v1/supervision/notifications", headers=alone.supervisor())
    assert r.status_code == 200, r.text
    [reminder] = [n for n in r.json()["items"] if n["kind"] == "applicant_material"]
    assert reminder["application_no"] == "D-4" and reminder["payload"]["to"] == "applicant"
    assert reminder["payload"]["id_number"] == "370602198501010012" and "补交" in reminder["payload"]["text"]
    summary = await alone.client.get("/api/v1/supervision/summary", headers=alone.supervisor())
    [land] = [d for d in summary.json()["departments"] if d["department"] == "LAND"]
    # The department decided in time: its rate is whole; the delay is the applicant's, shown apart.
    assert land["applicant_delays"] == 1 and land["on_time_rate"] == 1.0 and land["red_cards"] == 0
    # Once the material arrives, the delay is over and the certificate issued.
    await alone.publish(MaterialSupplemented(application_no="D-4", material_code="M2", at=at(date(2026, 11, 6))))
    await alone.wait_events("approval.certificate.issued", application_no="D-4")
    summary = await alone.client.get("/api/v1/supervision/summary", headers=alone.supervisor())
    [land] = [d for d in summary.json()["departments"] if d["department"] == "LAND"]
    assert land["applicant_delays"] == 0
