"""The event contracts intake publishes and consumes."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from owkernel.contracts import REGISTRY, EventData, decode, encode, make_envelope, spec_for
from owkernel.contracts.common import Address, Applicant, DeferredMaterial, DeliveryChoice, ItemSnapshot
from owkernel.contracts.intake import (
    ApplicationAccepted,
    ApplicationNotAccepted,
    ApplicationResumed,
    ApplicationReturned,
    ApplicationSubmitted,
    ApplicationSuspended,
    CatalogItemChanged,
    ConsultationAsked,
    ConsultationReplied,
    MaterialOverdue,
    MaterialSupplemented,
    VisitRecorded,
)
from services.intake.consumers import consumers

NOW = datetime(2026, 5, 6, 9, 30, tzinfo=UTC)
APPLICANT = Applicant(id_number="370602198501010013", kind="person", name="张三", phone="13800000000", subject_id="u1")
ITEM = ItemSnapshot(
    code="INV-S2",
    version=3,
    name="建设用地审批",
    kind="licensing",
    department="PLAN",
    departments=["PLAN", "LAND"],
    lead_department="PLAN",
    window="investment",
    legal_days=40,
    committed_days=12,
    trips=1,
    fee_fen=0,
)
PUBLISHED: list[EventData] = [
    ApplicationSubmitted(application_no="2026-I-000001", item_code="INV-S2", item_version=3, applicant=APPLICANT),
    ApplicationAccepted(
        application_no="2026-I-000001",
        applicant=APPLICANT,
        item=ITEM,
        window="investment",
        clerk="clerk1",
        accepted_at=NOW,
        project_no="PRJ-2026-000001",
        stage=2,
        deferred_materials=[DeferredMaterial(code="PARCEL", name="宗地图", due_date=date(2026, 5, 16))],
        delivery=DeliveryChoice(
            method="mail",
            address=Address(region_code="370602001001", detail="南大街1号", recipient="张三", phone="13800000000"),
        ),
    ),
    ApplicationReturned(application_no="2026-I-000001", reason="缺签字", clerk="clerk1"),
    ApplicationNotAccepted(application_no="2026-I-000001", reason="不属于受理范围", clerk="clerk1"),
    ApplicationSuspended(application_no="2026-I-000001", key="material:PARCEL", reason="deferred_material", at=NOW),
    ApplicationSuspended(application_no="2026-I-000001", key="payment", reason="unpaid_fee", at=NOW),
    ApplicationResumed(application_no="2026-I-000001", key="payment", at=NOW),
    MaterialSupplemented(application_no="2026-I-000001", material_code="PARCEL", at=NOW),
    MaterialOverdue(application_no="2026-I-000001", material_code="PARCEL", due_date=date(2026, 5, 16)),
    ConsultationAsked(consultation_id="c1", item_code="INV-S2", department="PLAN", asked_at=NOW, reply_days=1),
    ConsultationReplied(consultation_id="c1", department="PLAN", replied_at=NOW, replied_by="approver_plan"),
    VisitRecorded(id_number="370602198501010013", kind="window", window="general", application_no="x", at=NOW),
    CatalogItemChanged(item=ITEM, status="active", stage=2, changed_at=NOW),
]


@pytest.mark.parametrize("data", PUBLISHED, ids=lambda d: spec_for(d).subject)
def test_what_intake_publishes_round_trips(data: EventData) -> None:
    spec = spec_for(data)
    assert spec.producer == "intake" and spec.subject.startswith("intake.")
    envelope, decoded = decode(encode(make_envelope(data, source="intake")))
    assert envelope.type == spec.subject and decoded == data


def test_every_intake_event_is_exercised() -> None:
    produced = {spec_for(d).subject for d in PUBLISHED}
    assert produced == {s for s, spec in REGISTRY.items() if spec.producer == "intake"}


def test_what_intake_consumes_has_a_producer() -> None:
    handled = set(consumers.handlers)
    assert handled, "intake consumes other services' events"
    for subject in handled:
        spec = REGISTRY[subject]
        assert spec.producer in ("approval", "delivery", "gateway"), subject
    # The decisions made for the platform: these are what drive an application's status.
    assert {
        "approval.application.approved",
        "approval.application.rejected",
        "approval.certificate.issued",
        "approval.task.assigned",
        "approval.task.decided",
        "approval.card.raised",
        "delivery.shipment.created",
        "delivery.shipment.status_changed",
        "delivery.shipment.failed",
        "delivery.shipment.delivered",
        "delivery.pickup.completed",
        "gateway.payment.succeeded",
    } <= handled
    by_stream = consumers.subjects_by_producer()
    assert set(by_stream) == {"approval", "delivery", "gateway"}
