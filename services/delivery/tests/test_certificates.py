"""Certificates issued by approval become exactly one shipment (mail) or a pickup (window)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from pydantic import JsonValue

from owkernel.pagination import encode_cursor
from owtest import eventually, handled, sentinel
from services.delivery.known_applications.models import DeliveryApplication
from services.delivery.tests.harness import Delivery, accepted, certificate, new_idn, new_no


async def pickup_of(delivery: Delivery, no: str) -> dict[str, Any] | None:
    """The pickup record of an application, as staff see it."""
    r = await delivery.client.get(f"/api/v1/delivery/pickups/{no}", headers=delivery.staff("clerk"))
    found: dict[str, Any] | None = r.json() if r.status_code == 200 else None
    return found


async def test_mail_certificate_makes_one_shipment_even_when_redelivered(delivery: Delivery) -> None:
    no, idn = new_no(), new_idn()
    await delivery.publisher.accepted(no, idn)
    cert = await delivery.publisher.certificate(no, idn)
    shipment = await delivery.wait_shipment(no, idn)
    assert shipment["status"] == "created" and shipment["direction"] == "outbound" and shipment["attempt"] == 1
    # Yantai: the regional express is cheapest in the city.
    assert shipment["carrier"] == "sim-express" and shipment["tracking_no"].startswith("SE")
    assert shipment["zone"] == "city" and shipment["fee_fen"] == 500 and shipment["fee_paid_by"] == "finance"
    assert shipment["certificate_no"] == f"CERT-{no}"
    assert [e["status"] for e in shipment["events"]] == ["created"]

    # The same envelope again (past JetStream's duplicate window: the inbox drops it) and the
    # same certificate in a new envelope (a producer that published twice): still one shipment.
    await delivery.publisher.send(cert, msg_id=f"{cert.id}-again")
    await delivery.publisher.publish(certificate(no, idn), source="approval")
    marker = new_no()
    await delivery.publisher.accepted(marker, new_idn(), method="window")
    await delivery.publisher.certificate(marker, new_idn())
    staff = delivery.staff("clerk")

    async def marker_seen() -> bool:
        r = await delivery.client.get(f"/api/v1/delivery/pickups/{marker}", headers=staff)
        return r.status_code == 200

    await eventually(marker_seen)  # events behind the redeliveries were handled: they were too
    assert len(await delivery.shipments(no, idn)) == 1
    created = await delivery.published("delivery.shipment.created", no)
    assert len(created) == 1
    assert created[0]["carrier"] == "sim-express" and created[0]["region_code"] == "370602001001"


async def test_a_repeated_acceptance_refreshes_the_copy_until_the_certificate_is_issued(delivery: Delivery) -> None:
    no, idn = new_no(), new_idn()
    await delivery.publisher.accepted(no, idn, detail="芝罘区南大街1号")
    # Corrected before issue (a new envelope): the certificate goes to the corrected address.
    await delivery.publisher.publish(accepted(no, idn, region_code="370202001001", detail="市南区1号"), source="intake")

    async def copy_of() -> DeliveryApplication | None:
        async with delivery.svc.kernel.db.transaction() as session:
            found: DeliveryApplication | None = await session.get(DeliveryApplication, no)
            return found

    async def corrected() -> bool:
        copy = await copy_of()
        return copy is not None and copy.region_code == "370202001001"

    await eventually(corrected)  # the certificate comes on another stream: let it not overtake
    await delivery.publisher.certificate(no, idn)
    shipment = await delivery.wait_shipment(no, idn)
    assert shipment["address"]["region_code"] == "370202001001" and shipment["address"]["detail"] == "市南区1号"
    # After issue the copy no longer changes.
    await delivery.publisher.publish(accepted(no, idn, method="window"), source="intake")
    marker, marker_idn = new_no(), new_idn()
    await delivery.publisher.accepted(marker, marker_idn, method="window")
    await delivery.publisher.certificate(marker, marker_idn)
    await eventually(lambda: pickup_of(delivery, marker))
    copy = await copy_of()
    assert copy is not None and copy.certificate_no == f"CERT-{no}"
    assert (copy.method, copy.region_code, copy.address_detail) == ("mail", "370202001001", "市南区1号")
    assert await pickup_of(delivery, no) is None and len(await delivery.shipments(no, idn)) == 1


async def test_certificate_before_acceptance_waits_for_it(delivery: Delivery) -> None:
    no, idn = new_no(), new_idn()
    marker, marker_idn = new_no(), new_idn()
    await handled(delivery.kernel, await delivery.publisher.accepted(marker, marker_idn))
    await delivery.publisher.certificate(no, idn)
    # The sentinel: the marker's certificate, behind this one on approval's stream; once delivery
    # has handled it, it has had this one in hand (and put it off until its acceptance).
    await sentinel(delivery.publisher, delivery.kernel, certificate(marker, marker_idn))
    assert await delivery.shipments(no, idn) == []
    await delivery.publisher.accepted(no, idn)
    shipment = await delivery.wait_shipment(no, idn)
    assert shipment["status"] == "created" and shipment["attempt"] == 1


async def test_region_code_outside_the_city_prices_by_zone(delivery: Delivery) -> None:
    # Qingdao (Shandong, not Yantai): express and post cost the same, express has priority.
    _, _, qingdao = await delivery.ship(region_code="370202001001")
    assert (qingdao["carrier"], qingdao["zone"], qingdao["fee_fen"]) == ("sim-express", "province", 900)
    # Beijing: only the postal service goes there.
    _, _, beijing = await delivery.ship(region_code="110101001001")
    assert (beijing["carrier"], beijing["zone"], beijing["fee_fen"]) == ("sim-post", "national", 1200)
    # Lhasa: remote zone.
    _, _, lhasa = await delivery.ship(region_code="540102001001")
    assert (lhasa["carrier"], lhasa["zone"], lhasa["fee_fen"]) == ("sim-post", "remote", 2000)


async def test_unusable_address_puts_the_certificate_at_the_window(delivery: Delivery) -> None:
    no, idn = new_no(), new_idn()
    # 370699 is no county of Yantai.
    await delivery.publisher.publish(accepted(no, idn, region_code="370699001001"), source="intake")
    await delivery.publisher.certificate(no, idn)

    async def pickup() -> dict[str, object] | None:
        r = await delivery.client.get(f"/api/v1/delivery/pickups/{no}", headers=delivery.citizen(idn))
        return r.json() if r.status_code == 200 else None

    found = await eventually(pickup)
    assert found["reason"] == "address_invalid" and found["status"] == "waiting"
    assert await delivery.shipments(no, idn) == []


async def test_window_pickup_checks_identity_and_completes(delivery: Delivery) -> None:
    no, idn = new_no(), new_idn()
    await delivery.publisher.accepted(no, idn, method="window", window="commercial")
    await delivery.publisher.certificate(no, idn)
    clerk = delivery.staff("clerk", username="window_clerk")

    async def waiting() -> list[dict[str, object]]:
        r = await delivery.client.get("/api/v1/delivery/pickups", params={"status": "waiting"}, headers=clerk)
        return [p for p in r.json()["items"] if p["application_no"] == no]

    pickup = (await eventually(waiting))[0]
    assert pickup["reason"] == "chosen" and pickup["window"] == "commercial"
    assert pickup["certificate_no"] == f"CERT-{no}"
    ready = await delivery.published("delivery.pickup.ready", no)
    assert len(ready) == 1 and ready[0]["reason"] == "chosen"

    path = f"/api/v1/delivery/pickups/{no}/complete"
    # Only a clerk hands certificates over.
    r = await delivery.client.post(path, json={"collector_id_number": idn}, headers=delivery.citizen(idn))
    assert r.status_code == 403
    r = await delivery.client.post(path, json={"collector_id_number": idn}, headers=delivery.staff("approver"))
    assert r.status_code == 403
    # Someone else's identity document: refused, nothing completed.
    r = await delivery.client.post(path, json={"collector_id_number": new_idn()}, headers=clerk)
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == "collector_mismatch"
    assert r.json()["errors"][0]["code"] == "collector_mismatch"
    assert r.json()["errors"][0]["params"] == {"application_no": no}
    assert await delivery.published("delivery.pickup.completed", no) == []

    r = await delivery.client.post(
        path, json={"collector_id_number": idn.lower(), "collector_name": "测试居民"}, headers=clerk
    )
    assert r.status_code == 200, r.text
    done = r.json()
    assert done["status"] == "completed" and done["clerk"] == "window_clerk"
    assert done["collector_id_masked"].startswith(idn[:6]) and done["collector_id_masked"].endswith(idn[-4:])
    assert idn not in done["collector_id_masked"]
    completed = await delivery.published("delivery.pickup.completed", no)
    assert len(completed) == 1 and completed[0]["window"] == "commercial" and completed[0]["clerk"] == "window_clerk"

    again = await delivery.client.post(path, json={"collector_id_number": idn}, headers=clerk)
    assert again.status_code == 409
    # The certificate published again later does not put it back at the window.
    await delivery.publisher.certificate(no, idn)
    marker, marker_idn = new_no(), new_idn()
    await delivery.publisher.accepted(marker, marker_idn, method="window")
    await delivery.publisher.certificate(marker, marker_idn)
    await eventually(lambda: pickup_of(delivery, marker))
    still = await pickup_of(delivery, no)
    assert still is not None and still["status"] == "completed"
    assert len(await delivery.published("delivery.pickup.ready", no)) == 1
    unknown = await delivery.client.post(
        f"/api/v1/delivery/pickups/{new_no()}/complete", json={"collector_id_number": idn}, headers=clerk
    )
    assert unknown.status_code == 404


async def test_shipments_are_visible_to_their_applicant_and_staff_only(delivery: Delivery) -> None:
    no, idn, shipment = await delivery.ship()
    assert (await delivery.client.get("/api/v1/shipments", params={"application_no": no})).status_code == 401
    other = await delivery.client.get(
        "/api/v1/shipments", params={"application_no": no}, headers=delivery.citizen(new_idn())
    )
    assert other.status_code == 403
    mine = await delivery.client.get("/api/v1/shipments", headers=delivery.citizen(idn))
    assert [s["shipment_id"] for s in mine.json()["items"]] == [shipment["shipment_id"]]
    staff = await delivery.client.get(
        "/api/v1/shipments", params={"application_no": no}, headers=delivery.staff("supervisor")
    )
    assert staff.status_code == 200 and staff.json()["items"][0]["shipment_id"] == shipment["shipment_id"]
    one = await delivery.client.get(f"/api/v1/shipments/{shipment['shipment_id']}", headers=delivery.citizen(idn))
    assert one.status_code == 200 and one.json()["tracking_no"] == shipment["tracking_no"]
    nope = await delivery.client.get(
        f"/api/v1/shipments/{shipment['shipment_id']}", headers=delivery.citizen(new_idn())
    )
    assert nope.status_code == 403


async def test_shipment_list_pages_with_a_cursor(delivery: Delivery) -> None:
    staff = delivery.staff("supervisor")
    for _ in range(3):
        await delivery.ship()
    first = await delivery.client.get("/api/v1/shipments", params={"limit": 2}, headers=staff)
    body = first.json()
    assert len(body["items"]) == 2 and body["next_cursor"]
    second = await delivery.client.get(
        "/api/v1/shipments", params={"limit": 2, "cursor": body["next_cursor"]}, headers=staff
    )
    seen = {s["shipment_id"] for s in body["items"]}
    assert second.status_code == 200 and not seen & {s["shipment_id"] for s in second.json()["items"]}
    bad = await delivery.client.get("/api/v1/shipments", params={"cursor": "!!"}, headers=staff)
    assert bad.status_code == 422
    # Well-formed cursors that are not ours: a time that is not one, or one without an offset.
    keys: list[list[JsonValue]] = [
        ["yesterday", "shp_x"],
        ["2026-01-01T00:00:00", "shp_x"],
        [1, "shp_x"],
        ["2026-01-01T00:00:00Z", 1],
    ]
    for key in keys:
        for path in ("/api/v1/shipments", "/api/v1/delivery/pickups"):
            forged = await delivery.client.get(path, params={"cursor": encode_cursor(key)}, headers=staff)
            assert forged.status_code == 422, (path, key, forged.text)


def aware(value: str) -> datetime:
    """An ISO 8601 timestamp that must carry its offset (the contract's rule)."""
    parsed = datetime.fromisoformat(value)
    assert parsed.tzinfo is not None, f"{value!r} has no offset"
    return parsed


async def test_shipment_times_carry_an_offset(delivery: Delivery) -> None:
    no, idn, shipment = await delivery.ship()
    # A courier on Beijing time: the instant is kept, and read back with an offset.
    at = datetime.now(timezone(timedelta(hours=8))).replace(microsecond=0)
    assert (await delivery.report(shipment, "delivered", extra={"at": at.isoformat()})).json()["applied"] is True
    listed = (await delivery.shipments(no, idn))[0]
    one = await delivery.client.get(f"/api/v1/shipments/{shipment['shipment_id']}", headers=delivery.citizen(idn))
    assert one.status_code == 200
    for view in (listed, one.json()):
        for name in ("created_at", "updated_at", "delivered_at"):
            aware(view[name])
        assert aware(view["delivered_at"]) == at
        for event in view["events"]:
            assert aware(event["recorded_at"]) >= aware(event["at"]) - timedelta(minutes=1)
        assert aware(view["events"][-1]["at"]) == at
