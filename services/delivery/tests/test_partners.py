"""The partner rule follows availability; shipments wait when nobody can take them."""

from __future__ import annotations

from services.delivery.tests.harness import Delivery, new_idn, new_no


async def test_partner_choice_follows_availability(delivery: Delivery) -> None:
    admin = delivery.staff("admin", username="admin")
    listed = await delivery.client.get("/api/v1/delivery/partners", headers=delivery.staff("clerk"))
    assert listed.status_code == 200
    assert {p["carrier"]: p["available"] for p in listed.json()} == {"sim-express": True, "sim-post": True}
    assert (
        await delivery.client.get("/api/v1/delivery/partners", headers=delivery.citizen(new_idn()))
    ).status_code == 403

    path = "/api/v1/delivery/partners/{}/availability"
    off = {"available": False, "note": "typhoon"}
    assert (
        await delivery.client.put(path.format("sim-express"), json=off, headers=delivery.staff("clerk"))
    ).status_code == 403
    assert (await delivery.client.put(path.format("acme"), json=off, headers=admin)).status_code == 404
    r = await delivery.client.put(path.format("sim-express"), json=off, headers=admin)
    assert r.status_code == 200 and r.json()["available"] is False and r.json()["updated_by"] == "admin"

    # Express is off: a Yantai certificate goes by post.
    _, _, by_post = await delivery.ship()
    assert (by_post["carrier"], by_post["fee_fen"]) == ("sim-post", 700)

    # Both off: the shipment waits, with no waybill and nothing owed.
    await delivery.client.put(path.format("sim-post"), json=off, headers=admin)
    no, idn = new_no(), new_idn()
    await delivery.publisher.accepted(no, idn)
    await delivery.publisher.certificate(no, idn)
    waiting = await delivery.wait_shipment(no, idn, status="pending")
    assert waiting["carrier"] is None and waiting["tracking_no"] is None and waiting["fee_fen"] == 0
    assert await delivery.published("delivery.shipment.created", no) == []

    # Express is back: the waiting shipment is booked with it at once.
    back = await delivery.client.put(path.format("sim-express"), json={"available": True}, headers=admin)
    assert back.status_code == 200 and back.json()["booked_pending"] >= 1
    booked = await delivery.wait_shipment(no, idn, status="created")
    assert booked["shipment_id"] == waiting["shipment_id"] and booked["carrier"] == "sim-express"
    assert [e["status"] for e in booked["events"]] == ["pending", "created"]
    assert len(await delivery.published("delivery.shipment.created", no)) == 1
    await delivery.client.put(path.format("sim-post"), json={"available": True}, headers=admin)
