"""Addresses down to the village: division codes right and wrong, inbound mail, coverage."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from owtest import eventually
from services.delivery.regions.divisions import RegionCodeError, divisions, parse_region
from services.delivery.tests.harness import Delivery, new_idn, new_no

GOOD = {
    "370602001001": ("山东省", "烟台市", "芝罘区", "向阳街道", "city"),
    "370687110201": ("山东省", "烟台市", "海阳市", "二十里店镇", "city"),
    "370202001001": ("山东省", "青岛市", None, None, "province"),
    "110101001001": ("北京市", None, None, None, "national"),
    # Dongguan has no county level: its township codes sit under county part 00.
    "441900003001": ("广东省", None, None, None, "national"),
    "650102001001": ("新疆维吾尔自治区", None, None, None, "remote"),
}
BAD = {
    "37060200100": "exactly 12 digits",
    "3706020010011": "exactly 12 digits",
    "37060200100A": "exactly 12 digits",
    "３７０６０２００１００１": "exactly 12 digits",  # full-width digits
    "990602001001": "not a province",
    "370002001001": "no city",
    "371202001001": "not a city of 山东省",  # 莱芜 (3712) was merged into Jinan in 2019
    "370699001001": "not a county of 烟台市",
    "370684001001": "not a county of 烟台市",  # 蓬莱市 became 蓬莱区 (370614) in 2020
    "370602000001": "no township",
    "370602001000": "no village",
}


def test_the_shipped_data_is_complete_where_it_claims() -> None:
    data = divisions()
    assert len(data.provinces) == 31
    assert len(data.cities) == 16 and all(code.startswith("37") for code in data.cities)
    assert len(data.counties) == 13 and all(code.startswith("3706") for code in data.counties)
    assert all(code[:6] in data.counties for code in data.townships)
    assert "Bureau of Statistics" in data.source


@pytest.mark.parametrize("code", sorted(GOOD))
def test_good_codes_parse(code: str) -> None:
    region = parse_region(code)
    province, city, county, township, _ = GOOD[code]
    assert (region.province_name, region.city_name, region.county_name, region.township_name) == (
        province,
        city,
        county,
        township,
    )


@pytest.mark.parametrize("code", sorted(BAD))
def test_bad_codes_say_what_is_wrong(code: str) -> None:
    with pytest.raises(RegionCodeError, match=BAD[code]):
        parse_region(code)


async def test_region_lookup_endpoint(delivery: Delivery) -> None:
    for code, (province, city, county, township, zone) in GOOD.items():
        r = await delivery.client.get(f"/api/v1/delivery/regions/{code}")
        assert r.status_code == 200, r.text
        body = r.json()
        assert (body["province"], body["city"], body["county"], body["township"], body["zone"]) == (
            province,
            city,
            county,
            township,
            zone,
        )
    for code, why in BAD.items():
        r = await delivery.client.get(f"/api/v1/delivery/regions/{code}")
        assert r.status_code == 422 and why in r.json()["detail"], (code, r.text)
        assert r.json()["code"].startswith("region_") and r.json()["errors"][0]["code"] == r.json()["code"]


async def test_inbound_mail_of_materials(delivery: Delivery) -> None:
    no, idn = new_no(), new_idn()
    await delivery.publisher.accepted(no, idn)
    sender = {"region_code": "370611102001", "detail": "福山区高疃镇1号", "recipient": "测试居民", "phone": "138"}

    async def booked() -> httpx.Response | None:
        # 404 until the accepted event has reached delivery.
        r = await delivery.client.post(
            "/api/v1/delivery/inbound",
            json={"application_no": no, "sender": sender},
            headers=delivery.citizen(idn) | {"Idempotency-Key": "in-" + no},
        )
        return None if r.status_code == 404 else r

    r = await eventually(booked)
    assert r.status_code == 201, r.text
    parcel = r.json()
    assert parcel["direction"] == "inbound" and parcel["status"] == "created" and parcel["carrier"] == "sim-express"
    assert parcel["fee_paid_by"] == "finance" and parcel["address"]["region_code"] == "370611102001"
    again = await delivery.client.post(
        "/api/v1/delivery/inbound",
        json={"application_no": no, "sender": sender},
        headers=delivery.citizen(idn) | {"Idempotency-Key": "in-" + no},
    )
    assert again.status_code == 201 and again.json()["shipment_id"] == parcel["shipment_id"]
    assert again.headers["idempotent-replayed"] == "true"

    bad_code = await delivery.client.post(
        "/api/v1/delivery/inbound",
        json={"application_no": no, "sender": {**sender, "region_code": "370699001001"}},
        headers=delivery.citizen(idn),
    )
    assert bad_code.status_code == 422
    assert bad_code.json()["errors"][0]["field"] == "body.sender.region_code"
    # 3706 is 烟台市; 99 is no county of it: the code says which part, the params name the city.
    assert bad_code.json()["errors"][0]["code"] == "region_county_unknown"
    assert bad_code.json()["errors"][0]["params"] == {"prefix": "370699", "city_name": "烟台市"}
    someone_else = await delivery.client.post(
        "/api/v1/delivery/inbound", json={"application_no": no, "sender": sender}, headers=delivery.citizen(new_idn())
    )
    assert someone_else.status_code == 403
    unknown = await delivery.client.post(
        "/api/v1/delivery/inbound", json={"application_no": new_no(), "sender": sender}, headers=delivery.citizen(idn)
    )
    assert unknown.status_code == 404

    # The courier delivers to the hall: arrival is recorded against the application.
    await delivery.report(parcel, "picked_up")
    assert (await delivery.report(parcel, "delivered")).json()["applied"] is True
    arrived = next(s for s in await delivery.shipments(no, idn) if s["shipment_id"] == parcel["shipment_id"])
    assert arrived["status"] == "delivered" and arrived["delivered_at"]
    changed = await delivery.published("delivery.shipment.status_changed", no)
    assert [(c["direction"], c["status"]) for c in changed] == [("inbound", "picked_up"), ("inbound", "delivered")]
    # Materials arriving do not complete the application.
    assert await delivery.published("delivery.shipment.delivered", no) == []

    # A second parcel, recorded by the clerk at the hall.
    clerk = delivery.staff("clerk")
    second = await delivery.client.post(
        "/api/v1/delivery/inbound", json={"application_no": no, "sender": sender}, headers=clerk
    )
    assert second.status_code == 201 and second.json()["attempt"] == 2
    path = f"/api/v1/delivery/inbound/{second.json()['shipment_id']}/received"
    assert (await delivery.client.post(path, json={}, headers=delivery.citizen(idn))).status_code == 403
    got = await delivery.client.post(path, json={"note": "收到原件"}, headers=clerk)
    assert got.status_code == 200 and got.json()["status"] == "delivered"
    assert got.json()["events"][-1]["source"] == "clerk"
    assert (await delivery.client.post(path, json={}, headers=clerk)).status_code == 409
    outbound_path = f"/api/v1/delivery/inbound/{parcel['shipment_id']}x/received"
    assert (await delivery.client.post(outbound_path, json={}, headers=clerk)).status_code == 404

    # A parcel the courier could not collect: the applicant brings the materials to the window.
    third = await delivery.client.post(
        "/api/v1/delivery/inbound", json={"application_no": no, "sender": sender}, headers=delivery.citizen(idn)
    )
    assert (await delivery.report(third.json(), "failed", extra={"reason": "nobody home"})).json()["applied"]
    failed = await delivery.published("delivery.shipment.failed", no)
    assert [(f["direction"], f["action"], f["reason"]) for f in failed] == [
        ("inbound", "return_to_window", "nobody home")
    ]
    assert len(await delivery.shipments(no, idn)) == 3  # no automatic re-collection


async def test_coverage_per_county_and_township(delivery: Delivery) -> None:
    _, _, one = await delivery.ship(region_code="370614206001")  # 蓬莱区 北隍城乡
    await delivery.ship(region_code="370614206002")
    await delivery.ship(region_code="370614205001")  # 南隍城乡
    assert (await delivery.report(one, "delivered")).json()["applied"] is True
    staff = delivery.staff("supervisor")
    r = await delivery.client.get("/api/v1/delivery/coverage", params={"county": "370614"}, headers=staff)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["counties"], body["townships"], body["shipments"]) == (1, 2, 3)
    rows = {row["township_code"]: row for row in body["items"]}
    assert rows["370614206"] == {
        "county_code": "370614",
        "county": "蓬莱区",
        "township_code": "370614206",
        "township": "北隍城乡",
        "shipments": 2,
        "delivered": 1,
        "failed": 0,
        "in_progress": 1,
    }
    assert rows["370614205"]["township"] == "南隍城乡" and rows["370614205"]["shipments"] == 1
    whole_city = await delivery.client.get("/api/v1/delivery/coverage", params={"county": "3706"}, headers=staff)
    assert whole_city.json()["shipments"] >= 3
    future = await delivery.client.get(
        "/api/v1/delivery/coverage", params={"county": "370614", "from": "2999-01-01T00:00:00+08:00"}, headers=staff
    )
    assert future.json()["shipments"] == 0
    assert (
        await delivery.client.get("/api/v1/delivery/coverage", headers=delivery.citizen(new_idn()))
    ).status_code == 403
    bad = await delivery.client.get("/api/v1/delivery/coverage", params={"county": "37x"}, headers=staff)
    assert bad.status_code == 422


async def test_open_inbound_pickups_are_capped_per_application(delivery: Delivery) -> None:
    no, idn = new_no(), new_idn()
    await delivery.publisher.accepted(no, idn)
    sender = {"region_code": "370611102001", "detail": "福山区高疃镇1号", "recipient": "测试居民", "phone": "138"}
    clerk = delivery.staff("clerk")
    citizen_once = delivery.citizen(idn) | {"Idempotency-Key": "in-cap-" + no}

    async def book(application_no: str, headers: dict[str, str]) -> httpx.Response:
        return await delivery.client.post(
            "/api/v1/delivery/inbound", json={"application_no": application_no, "sender": sender}, headers=headers
        )

    async def first_booking(application_no: str, headers: dict[str, str]) -> httpx.Response | None:
        r = await book(application_no, headers)
        return None if r.status_code == 404 else r  # 404 until the accepted event has arrived

    first = await eventually(lambda: first_booking(no, citizen_once))
    assert first.status_code == 201, first.text
    second = await book(no, clerk)
    assert second.status_code == 201, second.text
    # Two couriers on their way (free, charged to finance): a third is refused, whoever asks.
    for headers in (delivery.citizen(idn), clerk):
        third = await book(no, headers)
        assert third.status_code == 409 and third.headers["content-type"] == "application/problem+json"
        assert "2 inbound pickups" in third.json()["detail"]
    # A retry of a booking that was made is still answered as it was.
    again = await book(no, citizen_once)
    assert again.status_code == 201 and again.json()["shipment_id"] == first.json()["shipment_id"]
    # Once one parcel has arrived and one failed, two more couriers may be booked, and no more.
    assert (await delivery.report(first.json(), "delivered")).json()["applied"] is True
    assert (await delivery.report(second.json(), "failed")).json()["applied"] is True
    assert [(await book(no, clerk)).status_code for _ in range(3)] == [201, 201, 409]
    # The cap is per application: the applicant's other application is not held up.
    other = new_no()
    await delivery.publisher.accepted(other, idn)
    assert (await eventually(lambda: first_booking(other, delivery.citizen(idn)))).status_code == 201


async def test_parallel_inbound_bookings_cannot_pass_the_cap_together(delivery: Delivery) -> None:
    no, idn = new_no(), new_idn()
    await delivery.publisher.accepted(no, idn)
    sender = {"region_code": "370611102001", "detail": "福山区高疃镇1号", "recipient": "测试居民", "phone": "138"}

    async def book() -> httpx.Response:
        return await delivery.client.post(
            "/api/v1/delivery/inbound", json={"application_no": no, "sender": sender}, headers=delivery.citizen(idn)
        )

    async def first() -> httpx.Response | None:
        r = await book()
        return None if r.status_code == 404 else r

    assert (await eventually(first)).status_code == 201
    # One open: five at once may add one more between them, and the rest are 409s.
    answers = await asyncio.gather(*(book() for _ in range(5)))
    assert sorted(r.status_code for r in answers) == [201, 409, 409, 409, 409], [r.text for r in answers]
    open_now = [s for s in await delivery.shipments(no, idn) if s["status"] not in ("delivered", "failed", "cancelled")]
    assert len(open_now) == 2
