"""Statement budgets of what every mailed application brings delivery (issue 22): its acceptance,
its certificate (booked with the courier), and the courier's reports up to delivered. A change that
adds a round trip (a read before a write, an INSERT then an UPDATE of the same row) shows here as
a number."""

from __future__ import annotations

from datetime import UTC, datetime

from services.delivery.consumers import consumers
from services.delivery.shipments.models import Shipment
from services.delivery.tests.harness import Delivery, accepted, certificate, new_idn, new_no


async def test_a_mailed_application_costs_a_statement_per_fact(delivery: Delivery) -> None:
    no, idn = new_no(), new_idn()
    # The copy of the application: one upsert.
    assert len(await delivery.handle_counted(consumers, accepted(no, idn))) == 1
    # The copy's certificate with the partners' availability (one UPDATE ... RETURNING), the
    # shipment booked (one INSERT), its history row and ShipmentCreated.
    assert len(await delivery.handle_counted(consumers, certificate(no, idn))) == 4
    [shipment] = await delivery.shipments(no, idn)
    assert shipment["status"] == "created" and shipment["tracking_no"]
    for status in ("picked_up", "in_transit", "delivered"):
        # The claim of the webhook id, the parcel moved (one UPDATE ... RETURNING), its history
        # row, the event and the audit row.
        with delivery.statements() as counted:
            r = await delivery.report(shipment, status)
        assert r.status_code == 200 and r.json()["applied"] is True, r.text
        assert len(counted.sql) == 5, counted.sql
    async with delivery.svc.kernel.db.transaction() as session:
        row = await session.get(Shipment, shipment["shipment_id"])
        assert row is not None and row.status == "delivered" and row.delivered_at is not None
    assert len(await delivery.published("delivery.shipment.delivered", no)) == 1
    # A repeated certificate books nothing: the copy's look, the first shipment's.
    assert len(await delivery.handle_counted(consumers, certificate(no, idn))) == 3
    assert len(await delivery.shipments(no, idn)) == 1


async def test_a_late_report_is_kept_not_applied(delivery: Delivery) -> None:
    no, idn = new_no(), new_idn()
    await delivery.handle_counted(consumers, accepted(no, idn))
    await delivery.handle_counted(consumers, certificate(no, idn))
    [shipment] = await delivery.shipments(no, idn)
    assert (await delivery.report(shipment, "in_transit")).json()["applied"] is True
    r = await delivery.report(shipment, "picked_up", extra={"at": datetime.now(UTC).isoformat()})
    assert r.status_code == 200 and r.json()["applied"] is False and r.json()["status"] == "in_transit"
    [after] = await delivery.shipments(no, idn)
    assert [(e["status"], e["applied"]) for e in after["events"]] == [
        ("created", True),
        ("in_transit", True),
        ("picked_up", False),
    ]
