"""Verified identity (issue 18): a self-declared applicant is refused the shipments, inbound
couriers and pickups bound to its number; the region check stays open to it."""

from __future__ import annotations

import httpx

from owtest import eventually
from services.delivery.tests.harness import YANTAI, Delivery, accepted, new_idn, new_no

SENDER = {"region_code": "370611102001", "detail": "福山区高疃镇1号", "recipient": "测试居民", "phone": "138"}


def refused(r: httpx.Response) -> bool:
    """True for the 403 problem that says the identity is not proven."""
    return (
        r.status_code == 403
        and r.headers["content-type"] == "application/problem+json"
        and r.json()["type"].endswith("identity-not-verified")
    )


async def test_a_self_declared_applicant_is_refused_its_deliveries_but_may_check_a_region(delivery: Delivery) -> None:
    no, idn, shipment = await delivery.ship()
    squatter = {"Authorization": f"Bearer {delivery.keys.self_declared(idn)}"}
    assert refused(await delivery.client.get("/api/v1/shipments", params={"application_no": no}, headers=squatter))
    assert refused(await delivery.client.get(f"/api/v1/shipments/{shipment['shipment_id']}", headers=squatter))
    booked = await delivery.client.post(
        "/api/v1/delivery/inbound", json={"application_no": no, "sender": SENDER}, headers=squatter
    )
    assert refused(booked)

    # A certificate waiting at the window for this number.
    waiting, owner = new_no(), new_idn()
    await delivery.publisher.publish(accepted(waiting, owner, method="window"), source="intake")
    await delivery.publisher.certificate(waiting, owner)

    async def pickup() -> httpx.Response | None:
        r = await delivery.client.get(f"/api/v1/delivery/pickups/{waiting}", headers=delivery.citizen(owner))
        return r if r.status_code == 200 else None

    await eventually(pickup)
    pretender = {"Authorization": f"Bearer {delivery.keys.self_declared(owner)}"}
    assert refused(await delivery.client.get(f"/api/v1/delivery/pickups/{waiting}", headers=pretender))
    assert refused(await delivery.client.get("/api/v1/delivery/pickups", headers=pretender))

    assert (await delivery.client.get(f"/api/v1/delivery/regions/{YANTAI}", headers=squatter)).status_code == 200
    # The verified applicant still reads the same records.
    assert [s["shipment_id"] for s in await delivery.shipments(no, idn)] == [shipment["shipment_id"]]
