"""The timeline follows other services' events, over a real nats-server.

Approval's events are staged in a kernel ``Outbox`` on a scratch database and relayed by a real
``OutboxRelay``; delivery's and the gateway's are published with the kernel's ``Bus`` as their
services would (``Nats-Msg-Id`` = event id). Nothing stands in for NATS or the database.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from owkernel.bus import Bus
from owkernel.consumer import RetryLater
from owkernel.contracts import EventData, encode, make_envelope
from owkernel.contracts.approval import (
    ApplicationApproved,
    ApplicationRejected,
    CardRaised,
    CertificateIssued,
    ClockOpened,
    ClockRescheduled,
    TaskAssigned,
    TaskCancelled,
    TaskDecided,
)
from owkernel.contracts.delivery import (
    PickupCompleted,
    PickupReady,
    ShipmentCreated,
    ShipmentDelivered,
    ShipmentStatusChanged,
)
from owkernel.contracts.gateway import PaymentFailed, PaymentSucceeded
from owkernel.contracts.intake import ApplicationResumed, ApplicationSuspended, MaterialOverdue, VisitRecorded
from owkernel.db import Database
from owkernel.outbox import Outbox, OutboxRelay
from owtest import ServiceRunner, SigningKeys, certificate_issued, eventually, fresh_database_url, resident_id
from owtest.backbone import create_schema, producer_md, producer_tables
from services.intake.app import create_app
from services.intake.applications import reactions
from services.intake.applications.jobs import publish_overdue
from services.intake.applications.models import ApplicationMaterial
from services.intake.tests.harness import INI, MAIL, Hall, intake_settings

NOW = datetime(2026, 5, 6, 9, 30, tzinfo=UTC)


@dataclass
class OtherServices:
    """Approval (through an outbox and its relay) and delivery and the gateway (through a bus)."""

    db: Database
    outbox: Outbox
    relay: OutboxRelay
    bus: Bus

    async def approval(self, *events: EventData) -> None:
        """Approval commits events in one transaction; its relay publishes them."""
        async with self.db.transaction() as session:
            for data in events:
                await self.outbox.add(session, data)

    async def publish(self, source: str, data: EventData) -> None:
        """Another producer publishes one event, as its relay would."""
        envelope = make_envelope(data, source=source)
        await self.bus.js.publish(
            self.bus.wire_subject(envelope.type), encode(envelope), headers={"Nats-Msg-Id": envelope.id}
        )


@pytest.fixture
async def others(nats_url: str, namespace: str, tmp_path: Path) -> AsyncIterator[OtherServices]:
    db = Database(fresh_database_url("approval_scratch", tmp_path))
    await create_schema(db, producer_md)
    bus = Bus(nats_url, name="other-services", namespace=namespace)
    await bus.connect()
    await bus.ensure_streams()
    relay = OutboxRelay(db, bus, producer_tables, service="approval", poll_seconds=0.1)
    relay.start()
    try:
        yield OtherServices(db=db, outbox=Outbox(producer_tables, source="approval"), relay=relay, bus=bus)
    finally:
        await relay.stop()
        await bus.close()
        await db.dispose()


@pytest.fixture
async def patient_hall(
    database_url: str, nats_url: str, namespace: str, signing_keys: SigningKeys, tmp_path: Path
) -> AsyncIterator[Hall]:
    """Intake with enough redeliveries to wait for an application that is not accepted yet."""
    settings = intake_settings(
        database_url, nats_url, namespace, tmp_path, consumer_max_deliveries=30, consumer_backoff_seconds=0.05
    )
    async with ServiceRunner(create_app=create_app, settings=settings, ini_path=INI, keys=signing_keys) as svc:
        yield Hall(svc=svc, keys=signing_keys, namespace=namespace)


async def _accepted(hall: Hall, me: dict[str, str], **body: object) -> str:
    no = await hall.submitted(me, **body)  # type: ignore[arg-type]
    assert (await hall.accept(no)).status_code == 200
    return no


async def test_timeline_follows_approval_and_delivery(patient_hall: Hall, others: OtherServices) -> None:
    hall = patient_hall
    await hall.add_item(fee_fen=5000)
    me = hall.citizen(idn := resident_id())
    no = await hall.submitted(me, delivery=MAIL)
    # Approval's word arrives before intake accepted: it waits (RetryLater), never applies wrongly.
    await others.approval(
        ApplicationApproved(application_no=no, item_code="T-001", departments=["MARKET"], decided_at=NOW)
    )
    assert (await hall.view(no))["status"] == "submitted"
    assert (await hall.accept(no)).status_code == 200

    async def approved() -> bool:
        return bool((await hall.view(no))["status"] == "approved")

    await eventually(approved, timeout=20)
    await others.approval(
        TaskAssigned(task_id="t1", application_no=no, department="MARKET", due_date=date(2026, 5, 13)),
        ClockOpened(
            clock_id="c1",
            clock_kind="application",
            ref=no,
            application_no=no,
            started_on=date(2026, 5, 6),
            due_date=date(2026, 5, 14),
            working_days=5,
        ),
        TaskDecided(
            task_id="t1",
            application_no=no,
            department="MARKET",
            decision="approve",
            opinion="同意",
            decided_by="approver_market",
            decided_at=NOW,
        ),
        CardRaised(
            card_id="k1",
            clock_id="c1",
            clock_kind="task",
            ref="t1",
            department="MARKET",
            application_no=no,
            color="yellow",
            due_date=date(2026, 5, 13),
            raised_at=NOW,
        ),
        CertificateIssued(
            certificate_no="CERT-1",
            application_no=no,
            holder_id_number=idn,
            holder_name="张三",
            item_code="T-001",
            item_name="测试许可事项",
            issued_on=date(2026, 5, 7),
            verification_code="V3RIFY",
        ),
    )
    await others.publish("gateway", PaymentFailed(payment_id="p0", application_no=no, reason="card declined"))
    await others.publish("gateway", PaymentSucceeded(payment_id="p1", application_no=no, amount_fen=5000, paid_at=NOW))
    later = NOW + timedelta(hours=1)
    await others.publish(
        "delivery",
        ShipmentCreated(shipment_id="s1", application_no=no, carrier="sim-express", tracking_no="SE1"),
    )
    await others.publish(
        "delivery", ShipmentStatusChanged(shipment_id="s1", application_no=no, status="in_transit", at=later)
    )
    await others.publish("delivery", ShipmentDelivered(shipment_id="s1", application_no=no, at=later))

    async def completed() -> dict[str, object] | None:
        view = await hall.view(no, me)
        done = view["status"] == "completed" and view["payment"]["status"] == "paid" and view["certificate"]
        return view if done else None

    view = await eventually(completed, timeout=20)
    assert view["certificate"] == {"certificate_no": "CERT-1", "verification_code": "V3RIFY", "issued_on": "2026-05-07"}
    assert view["payment"] == {
        "status": "paid",
        "payment_id": "p1",
        "amount_fen": 5000,
        "paid_at": view["payment"]["paid_at"],
    }
    assert view["deadline"] == "2026-05-14", "the application clock's due date"
    # The list line says when it was decided and completed, as the full view does.
    listed = await hall.client.get("/api/v1/applications", params={"status": "completed"}, headers=hall.clerk)
    line = next(i for i in listed.json()["items"] if i["application_no"] == no)
    assert line["completed_at"] is not None and line["decided_at"] is not None
    assert (line["decided_at"], line["completed_at"]) == (view["decided_at"], view["completed_at"])

    async def every_step() -> list[str] | None:
        events = [t["event"] for t in (await hall.view(no, me))["timeline"]]
        return events if "delivery.shipment.status_changed" in events else None

    events = await eventually(every_step, timeout=20)
    for expected in (
        "intake.application.accepted",
        "approval.application.approved",
        "approval.task.assigned",
        "approval.task.decided",
        "approval.card.raised",
        "approval.certificate.issued",
        "gateway.payment.failed",
        "gateway.payment.succeeded",
        "delivery.shipment.created",
        "delivery.shipment.status_changed",
        "delivery.shipment.delivered",
    ):
        assert events.count(expected) == 1, (expected, events)
    # The fee's wait started at acceptance and ended with the payment.
    suspended = [d for _, d in await hall.published("intake.application.suspended")]
    resumed = [d for _, d in await hall.published("intake.application.resumed")]
    # 容缺 (M2 and M3 deferred) is no wait: the fee's is the only one.
    assert [(d.key, d.reason) for d in suspended if isinstance(d, ApplicationSuspended)] == [("payment", "unpaid_fee")]
    assert [d.key for d in resumed if isinstance(d, ApplicationResumed)] == ["payment"]
    # A late approval event changes nothing but the timeline: completed stays completed.
    await others.approval(
        ApplicationRejected(application_no=no, item_code="T-001", department="MARKET", reason="x", decided_at=later)
    )

    async def rejection_noted() -> bool:
        return "approval.application.rejected" in [t["event"] for t in (await hall.view(no))["timeline"]]

    await eventually(rejection_noted, timeout=20)
    assert (await hall.view(no))["status"] == "completed"


async def test_rejection_pickup_and_unknown_application(hall: Hall, others: OtherServices) -> None:
    await hall.add_item()
    me = hall.citizen(idn := resident_id())
    rejected_no = await _accepted(hall, me)
    picked_no = await _accepted(hall, me)
    await others.approval(
        ApplicationRejected(
            application_no=rejected_no, item_code="T-001", department="MARKET", reason="不符合条件", decided_at=NOW
        ),
        ApplicationApproved(application_no=picked_no, item_code="T-001", departments=["MARKET"], decided_at=NOW),
    )
    await others.approval(
        ClockOpened(
            clock_id="c2",
            clock_kind="application",
            ref=picked_no,
            application_no=picked_no,
            started_on=date(2026, 5, 6),
            due_date=date(2026, 5, 13),
            working_days=5,
        ),
        ClockRescheduled(
            clock_id="c2",
            clock_kind="application",
            ref=picked_no,
            application_no=picked_no,
            due_date=date(2026, 5, 15),
            reason="suspension",
            suspended_days=2,
            at=NOW,
        ),
        TaskCancelled(
            task_id="t9",
            application_no=rejected_no,
            department="LAND",
            reason="another department rejected",
            cancelled_at=NOW,
        ),
    )
    await others.publish(
        "delivery", PickupReady(pickup_id="p1", application_no=picked_no, window="commercial", reason="chosen", at=NOW)
    )
    await others.publish(
        "delivery", PickupCompleted(pickup_id="p1", application_no=picked_no, window="commercial", clerk="c", at=NOW)
    )

    async def settled() -> bool:
        statuses = ((await hall.view(rejected_no))["status"], (await hall.view(picked_no))["status"])
        return statuses == ("rejected", "completed")

    await eventually(settled, timeout=20)
    assert (await hall.view(rejected_no, me))["reason"] == "不符合条件"

    async def rescheduled() -> dict[str, Any] | None:
        view = await hall.view(picked_no, me)
        return view if view["deadline"] == "2026-05-15" else None

    picked = await eventually(rescheduled, timeout=20)
    assert {"delivery.pickup.ready", "delivery.pickup.completed"} <= {t["event"] for t in picked["timeline"]}

    async def cancelled_task_noted() -> bool:
        events = [t["event"] for t in (await hall.view(rejected_no))["timeline"]]
        return "approval.task.cancelled" in events

    await eventually(cancelled_task_noted, timeout=20)
    visits = [d for _, d in await hall.published("intake.visit.recorded")]
    pickups = [v for v in visits if isinstance(v, VisitRecorded) and v.kind == "pickup"]
    assert len(pickups) == 1 and pickups[0].application_no == picked_no and pickups[0].id_number == idn
    # An event about an application intake never made is retried, then dead-lettered; nothing else breaks.
    await others.approval(
        ApplicationApproved(application_no="1999-G-000001", item_code="T-001", departments=["MARKET"], decided_at=NOW)
    )
    kernel = hall.svc.kernel

    async def dead_lettered() -> bool:
        async with kernel.db.transaction() as session:
            rows = (await session.execute(kernel.tables.dead_letters.select())).all()
        return any(b"1999-G-000001" in r.payload for r in rows)

    await eventually(dead_lettered, timeout=20)


async def test_overdue_deferred_material_is_published_once(hall: Hall) -> None:
    await hall.add_item()
    me = hall.citizen(resident_id())
    no = await _accepted(hall, me)
    kernel = hall.svc.kernel
    async with kernel.db.transaction() as session:
        await session.execute(
            update(ApplicationMaterial)
            .where(ApplicationMaterial.code == "M2")
            .values(due_date=date.today() - timedelta(days=1))
        )
    assert await publish_overdue(kernel.db, today=date.today()) == 1
    assert await publish_overdue(kernel.db, today=date.today()) == 0, "reported once"
    overdue = [d for _, d in await hall.published("intake.material.overdue")]
    assert len(overdue) == 1 and isinstance(overdue[0], MaterialOverdue)
    assert overdue[0].application_no == no and overdue[0].material_code == "M2"
    view = await hall.view(no, me)
    assert view["timeline"][-1]["event"] == "intake.material.overdue"
    assert {d["code"]: d["overdue"] for d in view["deferred_materials"]} == {"M2": True, "M3": False}
    # Supplied late, it is still taken, and the wait ends.
    r = await hall.upload(me, no, "M2")
    assert r.status_code == 409
    r = await hall.client.put(
        f"/api/v1/applications/{no}/supplements/M2", files={"file": ("M2.pdf", b"%PDF-1.7 late")}, headers=me
    )
    assert r.status_code == 201
    assert (await hall.view(no))["timeline"][-1]["detail"]["late"] is True


async def test_an_approved_application_waits_for_its_deferred_materials(hall: Hall, others: OtherServices) -> None:
    await hall.add_item()
    me = hall.citizen(idn := resident_id())
    no = await _accepted(hall, me)
    view = await hall.view(no, me)
    assert view["certificate_waits_for"] == ["M2", "M3"]
    await others.approval(
        ApplicationApproved(application_no=no, item_code="T-001", departments=["MARKET"], decided_at=NOW)
    )

    async def approved() -> dict[str, Any] | None:
        view = await hall.view(no, me)
        return view if view["status"] == "approved" else None

    # Approved while M2 and M3 are missing: the result waits, and says for what.
    view = await eventually(approved, timeout=20)
    assert view["certificate"] is None and view["certificate_waits_for"] == ["M2", "M3"]
    for code in ("M2", "M3"):
        r = await hall.client.put(
            f"/api/v1/applications/{no}/supplements/{code}", files={"file": (f"{code}.pdf", b"%PDF-1.7 x")}, headers=me
        )
        assert r.status_code == 201, r.text
        assert (await hall.view(no, me))["certificate_waits_for"] == (["M3"] if code == "M2" else [])
    await others.approval(
        CertificateIssued(
            certificate_no="CERT-W",
            application_no=no,
            holder_id_number=idn,
            holder_name="张三",
            item_code="T-001",
            item_name="测试许可事项",
            issued_on=date(2026, 5, 8),
            verification_code="V3RIFY",
        )
    )

    async def issued() -> dict[str, Any] | None:
        view = await hall.view(no, me)
        return view if view["certificate"] else None

    view = await eventually(issued, timeout=20)
    assert view["certificate"]["certificate_no"] == "CERT-W" and view["certificate_waits_for"] == []
    assert not await hall.published("intake.application.suspended")


async def test_background_job_finds_overdue_materials(
    database_url: str, nats_url: str, namespace: str, signing_keys: SigningKeys, tmp_path: Path
) -> None:
    # A supplement deadline of 0 days: due today, overdue from tomorrow; the job runs every 0.1 s.
    settings = intake_settings(database_url, nats_url, namespace, tmp_path, overdue_scan_seconds=0.1)
    async with ServiceRunner(create_app=create_app, settings=settings, ini_path=INI, keys=signing_keys) as svc:
        hall = Hall(svc=svc, keys=signing_keys, namespace=namespace)
        await hall.add_item()
        no = await _accepted(hall, hall.citizen(resident_id()))
        async with svc.kernel.db.transaction() as session:
            await session.execute(update(ApplicationMaterial).values(due_date=date(2020, 1, 1)))

        async def reported() -> bool:
            return len(await hall.published("intake.material.overdue")) == 2

        await eventually(reported, timeout=10)
        events = [t["event"] for t in (await hall.view(no))["timeline"]]
        assert events.count("intake.material.overdue") == 2


async def test_reactions_in_one_transaction_agree_with_an_application_already_held(hall: Hall) -> None:
    # A consumer applies a batch in one transaction: a reaction that changes the row with one
    # UPDATE (no SELECT) must neither lose what an earlier one changed on the loaded object nor
    # leave that object showing what the row no longer has.
    await hall.add_item()
    me = hall.citizen(idn := resident_id())
    no = await _accepted(hall, me)
    certificate = certificate_issued(no, holder_id_number=idn, item_code="T-001")
    approved = ApplicationApproved(
        application_no=no, item_code="T-001", departments=["MARKET"], decided_at=NOW, working_days_used=2
    )
    kernel = hall.svc.kernel
    async with kernel.db.transaction() as session:
        app = await reactions.known(session, no)
        app.deadline = date(2026, 5, 20)  # not flushed yet
        app.working_days_used = 3  # nor this, which the approval below changes again
        await reactions.approved(session, approved, make_envelope(approved, source="approval"))
        await reactions.certificate_issued(session, certificate, make_envelope(certificate, source="approval"))
        assert (app.status, app.working_days_used) == ("approved", 2) and app.certificate is not None
        assert app.certificate["certificate_no"] == f"CERT-{no}"
        assert await reactions.known(session, no) is app
    view = await hall.view(no)
    assert (view["status"], view["deadline"]) == ("approved", "2026-05-20")
    assert view["certificate"]["certificate_no"] == f"CERT-{no}"
    events = [t["event"] for t in view["timeline"]]
    assert events.count("approval.application.approved") == events.count("approval.certificate.issued") == 1
    # An event about an application not accepted yet changes nothing: it waits.
    draft = (await hall.apply(me))["application_no"]
    async with kernel.db.transaction() as session:
        late = ApplicationApproved(application_no=draft, item_code="T-001", departments=["MARKET"], decided_at=NOW)
        with pytest.raises(RetryLater):
            await reactions.approved(session, late, make_envelope(late, source="approval"))
    assert (await hall.view(draft))["status"] == "draft"


async def test_a_rolled_back_event_leaves_no_trace_on_the_application_the_next_one_reads(hall: Hall) -> None:
    # The consumer's isolated retry runs each event in a SAVEPOINT: one rolled back after its
    # one-statement UPDATE must not leave the next event reading what it wrote.
    await hall.add_item()
    no = await _accepted(hall, hall.citizen(resident_id()))
    approved = ApplicationApproved(application_no=no, item_code="T-001", departments=["MARKET"], decided_at=NOW)
    kernel = hall.svc.kernel
    async with kernel.db.transaction() as session:
        async with session.begin_nested():
            held = await reactions.known(session, no)  # still held (the identity map keeps it)
        with pytest.raises(RuntimeError):
            async with session.begin_nested():
                await reactions.approved(session, approved, make_envelope(approved, source="approval"))
                assert held.status == "approved"
                raise RuntimeError("the event failed after its UPDATE")
        async with session.begin_nested():
            assert (await reactions.known(session, no)).status == "accepted"
            assert held.status == "accepted"
    assert (await hall.view(no))["status"] == "accepted"
