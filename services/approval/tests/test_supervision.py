"""One supervision engine for every clock: consultations' reply clocks and rectifications' clocks
(published by rating) next to tasks; records of overdue materials and failed deliveries."""

from __future__ import annotations

from datetime import date

from owkernel.contracts.delivery import ShipmentFailed
from owkernel.contracts.intake import ConsultationAsked, ConsultationReplied, MaterialOverdue
from owkernel.contracts.rating import RectificationClosed, RectificationOpened
from owtest import eventually
from services.approval.tests.harness import Approval, accepted, at


async def test_consultation_reply_clocks_and_the_on_time_reply_rate(alone: Approval) -> None:
    # Asked Monday 2 November with one working day to reply: due Tuesday 3.
    await alone.publish(
        ConsultationAsked(consultation_id="Q-1", item_code="ITEM-1", department="TAX", asked_at=at(date(2026, 11, 2)))
    )
    await alone.publish(
        ConsultationAsked(consultation_id="Q-2", item_code="ITEM-1", department="TAX", asked_at=at(date(2026, 11, 2)))
    )
    # A reply that overtakes its question is retried until the question is in.
    await alone.publish(
        ConsultationReplied(consultation_id="Q-3", department="TAX", replied_at=at(date(2026, 11, 3), 11))
    )
    await alone.publish(
        ConsultationAsked(
            consultation_id="Q-3", item_code="ITEM-1", department="TAX", asked_at=at(date(2026, 11, 2)), reply_days=2
        )
    )
    opened = await alone.wait_events("approval.clock.opened", 3, clock_kind="consultation")
    assert {e.data["ref"]: e.data["due_date"] for e in opened} == {
        "Q-1": "2026-11-03",
        "Q-2": "2026-11-03",
        "Q-3": "2026-11-04",
    }
    await alone.publish(
        ConsultationReplied(consultation_id="Q-1", department="TAX", replied_at=at(date(2026, 11, 3), 16))
    )
    closed = await alone.wait_events("approval.clock.closed", 2, clock_kind="consultation", timeout=20)
    assert {e.data["ref"]: e.data["on_time"] for e in closed} == {"Q-1": True, "Q-3": True}

    alone.clock.set(date(2026, 11, 4))
    scanned = await alone.scan()
    assert scanned["red"] == 1
    [red] = await alone.wait_events("approval.card.raised", clock_kind="consultation", color="red")
    assert red.data["ref"] == "Q-2" and red.data["department"] == "TAX"
    summary = await alone.client.get("/api/v1/supervision/summary", headers=alone.supervisor())
    [tax] = [d for d in summary.json()["departments"] if d["department"] == "TAX"]
    # Two answered on time, one unanswered past its deadline.
    assert tax["consultations"] == 3 and tax["consultations_replied_on_time"] == 2
    assert tax["consultation_on_time_rate"] == round(2 / 3, 4) and tax["red_cards"] == 1
    await alone.publish(
        ConsultationReplied(consultation_id="Q-2", department="TAX", replied_at=at(date(2026, 11, 4), 9))
    )
    [late] = await alone.wait_events("approval.clock.closed", ref="Q-2")
    assert late.data["on_time"] is False and late.data["outcome"] == "replied"


async def test_rectification_clocks_from_rating(alone: Approval) -> None:
    await alone.publish(
        RectificationOpened(
            rectification_id="RC-1",
            origin="review",
            department="LAND",
            window="W3",
            application_no="A-77",
            due_working_days=5,
            opened_at=at(date(2026, 9, 28)),
        )
    )
    [opened] = await alone.wait_events("approval.clock.opened", ref="RC-1")
    # Rating shows this due date: five working days over National Day.
    assert opened.data["clock_kind"] == "rectification" and opened.data["due_date"] == "2026-10-10"
    assert opened.data["department"] == "LAND" and opened.data["application_no"] == "A-77"
    await alone.publish(
        RectificationClosed(
            rectification_id="RC-1", department="LAND", outcome="rectified", closed_at=at(date(2026, 10, 9))
        )
    )
    [closed] = await alone.wait_events("approval.clock.closed", ref="RC-1")
    assert closed.data["on_time"] is True and closed.data["outcome"] == "rectified"


async def test_overdue_materials_and_failed_deliveries_are_on_record(alone: Approval) -> None:
    await alone.publish(
        MaterialOverdue(application_no="M-1", material_code="M2", due_date=date(2026, 11, 20))
    )  # before its acceptance: retried
    await alone.publish(accepted("M-1", departments=["LAND"], accepted_at=at(date(2026, 11, 2))))
    await alone.publish(
        ShipmentFailed(
            shipment_id="SH-1",
            application_no="M-1",
            reason="收件人拒收",
            action="return_to_window",
            at=at(date(2026, 11, 25)),
        )
    )

    async def both() -> list[dict[str, object]]:
        r = await alone.client.get("/api/v1/supervision/records", headers=alone.supervisor())
        assert r.status_code == 200
        items: list[dict[str, object]] = r.json()["items"]
        return items if len(items) == 2 else []

    records = {r["kind"]: r for r in await eventually(both, timeout=20)}
    assert records["material_overdue"]["ref"] == "M2" and records["material_overdue"]["department"] == "LAND"
    assert records["shipment_failed"]["detail"] == {
        "reason": "收件人拒收",
        "action": "return_to_window",
        "shipment_id": "SH-1",
    }
