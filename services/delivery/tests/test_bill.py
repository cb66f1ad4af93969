"""The finance bill: per carrier and month (local time), CSV export, finance only."""

from __future__ import annotations

import csv
import io
from datetime import datetime

from sqlalchemy import update

from services.delivery.shipments.models import Shipment
from services.delivery.tests.harness import Delivery


async def set_waybill_time(delivery: Delivery, shipment_id: str, at: str) -> None:
    """Put a shipment's waybill at a chosen instant (the bill's months are what is tested)."""
    async with delivery.svc.kernel.db.transaction() as session:
        await session.execute(
            update(Shipment).where(Shipment.id == shipment_id).values(waybill_at=datetime.fromisoformat(at))
        )


async def test_monthly_bill_sums_per_carrier_across_month_boundaries(delivery: Delivery) -> None:
    _, _, a = await delivery.ship()  # Yantai: sim-express 500
    _, _, b = await delivery.ship()  # Yantai: sim-express 500
    _, _, c = await delivery.ship(region_code="110101001001")  # Beijing: sim-post 1200
    _, _, d = await delivery.ship(region_code="370202001001")  # Qingdao: sim-express 900
    no_e, idn_e, _ = await delivery.ship()
    inbound = await delivery.client.post(
        "/api/v1/delivery/inbound",
        json={
            "application_no": no_e,
            "sender": {"region_code": "370613001001", "detail": "莱山区1号", "recipient": "测试居民", "phone": "138"},
        },
        headers=delivery.citizen(idn_e),
    )
    assert inbound.status_code == 201
    e = inbound.json()  # materials mailed in: sim-express 500, paid by finance too
    _, _, f1 = await delivery.ship()
    r = await delivery.client.post(
        f"/api/v1/delivery/shipments/{f1['shipment_id']}/reship", json={}, headers=delivery.staff("clerk")
    )
    f2 = r.json()  # f1 was cancelled before pickup: not billed

    # Asia/Shanghai is UTC+8: 2025-01-31T16:00Z is already 1 February locally.
    await set_waybill_time(delivery, a["shipment_id"], "2025-01-31T15:59:59+00:00")  # January
    await set_waybill_time(delivery, b["shipment_id"], "2025-01-31T16:00:00+00:00")  # February
    await set_waybill_time(delivery, c["shipment_id"], "2024-12-31T16:00:00+00:00")  # January (1st, 00:00)
    await set_waybill_time(delivery, d["shipment_id"], "2025-02-28T15:59:59+00:00")  # February (last second)
    await set_waybill_time(delivery, e["shipment_id"], "2025-01-15T04:00:00+00:00")  # January
    await set_waybill_time(delivery, f1["shipment_id"], "2025-01-10T04:00:00+00:00")  # cancelled
    await set_waybill_time(delivery, f2["shipment_id"], "2025-02-28T16:00:00+00:00")  # March

    finance = delivery.staff("finance", username="cashier")
    jan = await delivery.client.get("/api/v1/delivery/bill", params={"month": "2025-01"}, headers=finance)
    assert jan.status_code == 200, jan.text
    body = jan.json()
    assert body["payer"] == "finance" and body["applicant_charge_fen"] == 0 and body["timezone"] == "Asia/Shanghai"
    assert body["period_start"].startswith("2024-12-31T16:00:00")
    by = {i["carrier"]: i for i in body["items"]}
    assert (by["sim-express"]["shipments"], by["sim-express"]["total_fee_fen"]) == (2, 1000)
    assert (by["sim-express"]["outbound"], by["sim-express"]["inbound"]) == (1, 1)
    assert (by["sim-post"]["shipments"], by["sim-post"]["total_fee_fen"]) == (1, 1200)
    assert by["sim-post"]["by_zone"] == [{"zone": "national", "shipments": 1, "fee_fen": 1200}]
    assert (body["total_shipments"], body["total_fee_fen"]) == (3, 2200)

    feb = (await delivery.client.get("/api/v1/delivery/bill", params={"month": "2025-02"}, headers=finance)).json()
    by = {i["carrier"]: i for i in feb["items"]}
    assert (by["sim-express"]["shipments"], by["sim-express"]["total_fee_fen"]) == (2, 1400)
    assert by["sim-express"]["by_zone"] == [
        {"zone": "city", "shipments": 1, "fee_fen": 500},
        {"zone": "province", "shipments": 1, "fee_fen": 900},
    ]
    assert (by["sim-post"]["shipments"], by["sim-post"]["total_fee_fen"]) == (0, 0)
    assert (feb["total_shipments"], feb["total_fee_fen"]) == (2, 1400)
    mar = (await delivery.client.get("/api/v1/delivery/bill", params={"month": "2025-03"}, headers=finance)).json()
    assert (mar["total_shipments"], mar["total_fee_fen"]) == (1, 500)
    dec = (await delivery.client.get("/api/v1/delivery/bill", params={"month": "2024-12"}, headers=finance)).json()
    assert dec["total_shipments"] == 0

    export = await delivery.client.get("/api/v1/delivery/bill/export", params={"month": "2025-01"}, headers=finance)
    assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
    assert 'filename="delivery-bill-2025-01.csv"' in export.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert {r["shipment_id"] for r in rows} == {a["shipment_id"], c["shipment_id"], e["shipment_id"]}
    assert sum(int(r["fee_fen"]) for r in rows) == 2200 and {r["payer"] for r in rows} == {"finance"}
    first = next(r for r in rows if r["shipment_id"] == a["shipment_id"])
    assert first["waybill_at"] == "2025-01-31T23:59:59+08:00" and first["carrier"] == "sim-express"
    only_post = await delivery.client.get(
        "/api/v1/delivery/bill/export", params={"month": "2025-01", "carrier": "sim-post"}, headers=finance
    )
    assert [r["shipment_id"] for r in csv.DictReader(io.StringIO(only_post.text))] == [c["shipment_id"]]


async def test_the_bill_is_for_finance_only(delivery: Delivery) -> None:
    path = "/api/v1/delivery/bill"
    assert (await delivery.client.get(path, params={"month": "2025-01"})).status_code == 401
    for headers in (delivery.staff("clerk"), delivery.staff("admin"), delivery.citizen("370602199001011234")):
        assert (await delivery.client.get(path, params={"month": "2025-01"}, headers=headers)).status_code == 403
        export = await delivery.client.get(f"{path}/export", params={"month": "2025-01"}, headers=headers)
        assert export.status_code == 403
    finance = delivery.staff("finance")
    for month in ("2025-13", "2025-1", "25-01", ""):
        assert (await delivery.client.get(path, params={"month": month}, headers=finance)).status_code == 422
    assert (await delivery.client.get(path, headers=finance)).status_code == 422
