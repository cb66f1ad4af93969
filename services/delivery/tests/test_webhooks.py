"""Courier webhooks: Standard Webhooks signatures, rotation, staleness, replay, the state machine."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from services.delivery.tests.harness import EXPRESS_OLD, Delivery, whsec
from services.delivery.webhooks.models import WebhookReceipt


async def receipts(delivery: Delivery, webhook_id: str) -> list[WebhookReceipt]:
    """The audit rows of one webhook id."""
    async with delivery.svc.kernel.db.transaction() as session:
        rows = await session.execute(
            select(WebhookReceipt).where(WebhookReceipt.webhook_id == webhook_id).order_by(WebhookReceipt.id)
        )
        return list(rows.scalars())


def statuses(shipment: dict[str, Any]) -> list[tuple[str, bool]]:
    """(status, applied) of every report in a shipment's history."""
    return [(e["status"], e["applied"]) for e in shipment["events"]]


async def test_signed_webhook_moves_the_shipment_and_is_audited(delivery: Delivery) -> None:
    no, idn, shipment = await delivery.ship()
    r = await delivery.report(shipment, "picked_up", webhook_id="msg_pick_" + shipment["tracking_no"])
    assert r.status_code == 200, r.text
    assert r.json()["applied"] is True and r.json()["status"] == "picked_up"
    now = (await delivery.shipments(no, idn))[0]
    assert now["status"] == "picked_up"
    assert statuses(now) == [("created", True), ("picked_up", True)]
    changed = await delivery.published("delivery.shipment.status_changed", no)
    assert [c["status"] for c in changed] == ["picked_up"]
    audit = await receipts(delivery, "msg_pick_" + shipment["tracking_no"])
    assert len(audit) == 1 and audit[0].outcome == "accepted" and audit[0].shipment_id == shipment["shipment_id"]
    assert json.loads(audit[0].body)["status"] == "picked_up" and audit[0].signature


async def test_bad_signature_is_401_and_changes_nothing(delivery: Delivery) -> None:
    no, idn, shipment = await delivery.ship()
    forged = await delivery.report(shipment, "delivered", secret=whsec("an attacker"), webhook_id="msg_forged")
    assert forged.status_code == 401 and forged.headers["content-type"] == "application/problem+json"
    # The right carrier's body signed with the other carrier's secret is no better.
    wrong_carrier = await delivery.report(shipment, "delivered", secret=whsec("post"), webhook_id="msg_wrong")
    assert wrong_carrier.status_code == 401
    unsigned = await delivery.client.post(
        f"/api/v1/webhooks/couriers/{shipment['carrier']}",
        json={"tracking_no": shipment["tracking_no"], "status": "delivered", "at": datetime.now(UTC).isoformat()},
    )
    assert unsigned.status_code == 401
    garbled = await delivery.client.post(
        f"/api/v1/webhooks/couriers/{shipment['carrier']}",
        content=b"{}",
        headers={
            "webhook-id": "msg_garbled",
            "webhook-timestamp": str(int(datetime.now(UTC).timestamp())),
            "webhook-signature": "v1",
        },
    )
    assert garbled.status_code == 401
    assert (await delivery.shipments(no, idn))[0]["status"] == "created"
    assert [r.outcome for r in await receipts(delivery, "msg_forged")] == ["bad_signature"]
    assert [r.outcome for r in await receipts(delivery, "msg_garbled")] == ["bad_signature"]
    assert await delivery.published("delivery.shipment.delivered", no) == []


async def test_stale_timestamp_is_401(delivery: Delivery) -> None:
    no, idn, shipment = await delivery.ship()
    old = datetime.now(UTC) - timedelta(minutes=5, seconds=30)
    stale = await delivery.report(shipment, "picked_up", timestamp=old, webhook_id="msg_stale_" + no)
    assert stale.status_code == 401
    assert [r.outcome for r in await receipts(delivery, "msg_stale_" + no)] == ["stale"]
    future = await delivery.report(shipment, "picked_up", timestamp=datetime.now(UTC) + timedelta(minutes=6))
    assert future.status_code == 401
    # Four minutes old is within the tolerance.
    fresh = await delivery.report(shipment, "picked_up", timestamp=datetime.now(UTC) - timedelta(minutes=4))
    assert fresh.status_code == 200 and fresh.json()["applied"] is True
    assert (await delivery.shipments(no, idn))[0]["status"] == "picked_up"


async def test_rotation_accepts_both_secrets_while_it_lasts(delivery: Delivery) -> None:
    no, idn, shipment = await delivery.ship()
    assert shipment["carrier"] == "sim-express"
    with_old = await delivery.report(shipment, "picked_up", secret=EXPRESS_OLD)
    assert with_old.status_code == 200 and with_old.json()["applied"] is True
    with_new = await delivery.report(shipment, "in_transit")
    assert with_new.status_code == 200 and with_new.json()["applied"] is True
    retired = await delivery.report(shipment, "delivered", secret=whsec("express-retired"))
    assert retired.status_code == 401
    assert (await delivery.shipments(no, idn))[0]["status"] == "in_transit"


async def test_replayed_webhook_id_changes_nothing(delivery: Delivery) -> None:
    no, idn, shipment = await delivery.ship()
    webhook_id = "msg_replay_" + uuid.uuid4().hex
    first = await delivery.report(shipment, "delivered", webhook_id=webhook_id)
    assert first.status_code == 200 and first.json()["applied"] is True
    again = await delivery.report(shipment, "delivered", webhook_id=webhook_id)
    assert again.status_code == 200 and again.json() == {"received": True, "replay": True, "applied": False}
    # Even a different (validly signed) body under the same id is a replay.
    other = await delivery.report(shipment, "failed", webhook_id=webhook_id)
    assert other.status_code == 200 and other.json()["replay"] is True
    final = (await delivery.shipments(no, idn))[0]
    assert final["status"] == "delivered" and statuses(final) == [("created", True), ("delivered", True)]
    assert len(await delivery.published("delivery.shipment.delivered", no)) == 1
    assert [r.outcome for r in await receipts(delivery, webhook_id)] == ["accepted", "replay", "replay"]


async def test_a_replay_is_a_replay_whatever_its_body_and_only_an_applied_id_is_claimed(delivery: Delivery) -> None:
    no, idn, shipment = await delivery.ship()
    webhook_id = "msg_replay_body_" + uuid.uuid4().hex
    # Not a report, or a report of no parcel of ours: rejected, and the id stays unclaimed.
    invalid = await delivery.report(shipment, "picked_up", webhook_id=webhook_id, extra={"at": "yesterday"})
    assert invalid.status_code == 422
    stranger = await delivery.report({**shipment, "tracking_no": "SE-NOBODY"}, "picked_up", webhook_id=webhook_id)
    assert stranger.status_code == 404
    applied = await delivery.report(shipment, "picked_up", webhook_id=webhook_id)
    assert applied.status_code == 200 and applied.json()["applied"] is True
    # Once applied, the same id is a replay even with a body that would be rejected on its own.
    for again in (
        await delivery.report(shipment, "picked_up", webhook_id=webhook_id, extra={"at": "yesterday"}),
        await delivery.report({**shipment, "tracking_no": "SE-NOBODY"}, "delivered", webhook_id=webhook_id),
        await delivery.report(shipment, "in_transit", webhook_id=webhook_id),
    ):
        assert again.status_code == 200 and again.json() == {"received": True, "replay": True, "applied": False}
    final = (await delivery.shipments(no, idn))[0]
    assert final["status"] == "picked_up" and statuses(final) == [("created", True), ("picked_up", True)]
    audit = await receipts(delivery, webhook_id)
    assert [r.outcome for r in audit] == ["invalid", "unknown_tracking", "accepted", "replay", "replay", "replay"]
    assert [r.shipment_id for r in audit] == [None, None, shipment["shipment_id"], None, None, None]
    assert audit[0].detail and audit[1].detail and audit[2].detail is None


async def test_out_of_order_and_duplicate_reports_never_move_back(delivery: Delivery) -> None:
    no, idn, shipment = await delivery.ship()
    # in_transit arrives before picked_up: it moves forward; picked_up is then late.
    assert (await delivery.report(shipment, "in_transit")).json()["applied"] is True
    assert (await delivery.report(shipment, "picked_up")).json()["applied"] is False
    # The same status twice (two webhook ids): the second is a duplicate.
    assert (await delivery.report(shipment, "in_transit")).json()["applied"] is False
    assert (await delivery.report(shipment, "delivered")).json()["applied"] is True
    # A late in_transit after delivered does not move it back; nor does a late failure.
    late = await delivery.report(shipment, "in_transit")
    assert late.status_code == 200 and late.json()["applied"] is False and late.json()["status"] == "delivered"
    assert (await delivery.report(shipment, "failed")).json()["applied"] is False
    assert (await delivery.report(shipment, "delivered")).json()["applied"] is False
    final = (await delivery.shipments(no, idn))[0]
    assert final["status"] == "delivered" and final["delivered_at"]
    assert statuses(final) == [
        ("created", True),
        ("in_transit", True),
        ("picked_up", False),
        ("in_transit", False),
        ("delivered", True),
        ("in_transit", False),
        ("failed", False),
        ("delivered", False),
    ]
    # Version 2 of status_changed: the outbound delivery is announced by shipment.delivered alone.
    assert [c["status"] for c in await delivery.published("delivery.shipment.status_changed", no)] == ["in_transit"]
    delivered = await delivery.published("delivery.shipment.delivered", no)
    assert len(delivered) == 1 and delivered[0]["shipment_id"] == shipment["shipment_id"]
    assert await delivery.published("delivery.shipment.failed", no) == []


async def test_unknown_carrier_tracking_and_bad_bodies(delivery: Delivery) -> None:
    _, _, shipment = await delivery.ship()
    nobody = await delivery.webhook("sim-express", {"x": 1}, webhook_id="msg_x")
    assert nobody.status_code == 422
    unknown_tracking = await delivery.webhook(
        "sim-express", {"tracking_no": "SE000", "status": "delivered", "at": datetime.now(UTC).isoformat()}
    )
    assert unknown_tracking.status_code == 404
    not_json = await delivery.webhook("sim-express", b"not json")
    assert not_json.status_code == 422
    naive_time = await delivery.webhook(
        "sim-express", {"tracking_no": shipment["tracking_no"], "status": "delivered", "at": "2026-01-01T10:00:00"}
    )
    assert naive_time.status_code == 422
    wrong_status = await delivery.report(shipment, "lost")
    assert wrong_status.status_code == 422
    stranger = await delivery.client.post("/api/v1/webhooks/couriers/acme", content=b"{}")
    assert stranger.status_code == 404
    # The parcel's tracking number reported by the other carrier is not its parcel.
    other = await delivery.report({**shipment, "carrier": "sim-post"}, "delivered")
    assert other.status_code == 404


async def test_failed_delivery_is_reshipped_then_returned_to_the_window(delivery: Delivery) -> None:
    no, idn, first = await delivery.ship()
    assert first["carrier"] == "sim-express"
    r = await delivery.report(first, "failed", extra={"reason": "recipient moved"})
    assert r.status_code == 200 and r.json()["applied"] is True
    second = await delivery.wait_shipment(no, idn, count=2)
    # The re-ship goes with the other partner.
    assert second["attempt"] == 2 and second["carrier"] == "sim-post" and second["status"] == "created"
    failed = await delivery.published("delivery.shipment.failed", no)
    assert len(failed) == 1
    assert failed[0]["action"] == "retry" and failed[0]["reason"] == "recipient moved"
    assert failed[0]["next_shipment_id"] == second["shipment_id"] and failed[0]["carrier"] == "sim-express"
    created = await delivery.published("delivery.shipment.created", no)
    assert [c["attempt"] for c in created] == [1, 2]

    assert (await delivery.report(second, "failed")).json()["applied"] is True
    failed = await delivery.published("delivery.shipment.failed", no)
    assert [f["action"] for f in failed] == ["retry", "return_to_window"]
    assert len(await delivery.shipments(no, idn)) == 2  # no third attempt by itself
    pickup = await delivery.client.get(f"/api/v1/delivery/pickups/{no}", headers=delivery.citizen(idn))
    assert pickup.status_code == 200 and pickup.json()["reason"] == "returned"
    assert pickup.json()["status"] == "waiting"

    # A clerk re-ships to a corrected address: the window stops waiting.
    clerk = delivery.staff("clerk")
    bad = await delivery.client.post(
        f"/api/v1/delivery/shipments/{second['shipment_id']}/reship",
        json={"address": {"region_code": "370699001001", "detail": "x", "recipient": "y", "phone": "138"}},
        headers=clerk,
    )
    assert bad.status_code == 422
    stale = await delivery.client.post(
        f"/api/v1/delivery/shipments/{first['shipment_id']}/reship", json={}, headers=clerk
    )
    assert stale.status_code == 409
    body = {
        "address": {
            "region_code": "370611102001",
            "detail": "福山区高疃镇1号",
            "recipient": "测试居民",
            "phone": "13800000000",
        }
    }
    headers = clerk | {"Idempotency-Key": "reship-" + no}
    third = await delivery.client.post(
        f"/api/v1/delivery/shipments/{second['shipment_id']}/reship", json=body, headers=headers
    )
    assert third.status_code == 201, third.text
    again = await delivery.client.post(
        f"/api/v1/delivery/shipments/{second['shipment_id']}/reship", json=body, headers=headers
    )
    assert again.status_code == 201 and again.json()["shipment_id"] == third.json()["shipment_id"]
    assert third.json()["attempt"] == 3 and third.json()["address"]["region_code"] == "370611102001"
    pickup = await delivery.client.get(f"/api/v1/delivery/pickups/{no}", headers=delivery.citizen(idn))
    assert pickup.json()["status"] == "cancelled"
    assert (await delivery.report(third.json(), "delivered")).json()["applied"] is True
    assert len(await delivery.published("delivery.shipment.delivered", no)) == 1
    assert (await delivery.shipments(no, idn))[0]["status"] == "delivered"


async def test_reship_before_pickup_cancels_the_waybill(delivery: Delivery) -> None:
    no, idn, first = await delivery.ship()
    clerk = delivery.staff("clerk")
    r = await delivery.client.post(f"/api/v1/delivery/shipments/{first['shipment_id']}/reship", json={}, headers=clerk)
    assert r.status_code == 201
    items = await delivery.shipments(no, idn)
    assert [(s["attempt"], s["status"]) for s in items] == [(2, "created"), (1, "cancelled")]
    cancelled = await delivery.published("delivery.shipment.cancelled", no)
    assert len(cancelled) == 1 and cancelled[0]["tracking_no"] == first["tracking_no"]
    # The cancelled waybill's courier reports are no longer applied.
    assert (await delivery.report(first, "picked_up")).json()["applied"] is False
    # Once picked up, a shipment cannot be re-shipped.
    second = items[0]
    assert (await delivery.report(second, "picked_up")).json()["applied"] is True
    late = await delivery.client.post(
        f"/api/v1/delivery/shipments/{second['shipment_id']}/reship", json={}, headers=clerk
    )
    assert late.status_code == 409
    citizen = await delivery.client.post(
        f"/api/v1/delivery/shipments/{second['shipment_id']}/reship", json={}, headers=delivery.citizen(idn)
    )
    assert citizen.status_code == 403
