"""The address picker's division lists: provinces, the children of a division, a search by name."""

from __future__ import annotations

from services.delivery.tests.harness import Delivery


async def test_picker_walks_down_from_the_provinces(delivery: Delivery) -> None:
    provinces = (await delivery.client.get("/api/v1/delivery/regions")).json()["items"]
    shandong = {"code": "37", "name": "山东省", "level": "province", "path": ["山东省"]}
    assert len(provinces) == 31 and shandong in provinces
    cities = (await delivery.client.get("/api/v1/delivery/regions", params={"parent": "37"})).json()["items"]
    assert {c["code"] for c in cities} >= {"3706", "3703"} and all(c["level"] == "city" for c in cities)
    counties = (await delivery.client.get("/api/v1/delivery/regions", params={"parent": "3706"})).json()["items"]
    assert {"code": "370602", "name": "芝罘区", "level": "county", "path": ["山东省", "烟台市", "芝罘区"]} in counties
    towns = (await delivery.client.get("/api/v1/delivery/regions", params={"parent": "370602"})).json()["items"]
    assert towns[0]["code"] == "370602001" and towns[0]["name"] == "向阳街道"
    # Where the excerpt stops, the list is empty rather than wrong.
    assert (await delivery.client.get("/api/v1/delivery/regions", params={"parent": "110101"})).json()["items"] == []


async def test_picker_searches_by_name(delivery: Delivery) -> None:
    found = (await delivery.client.get("/api/v1/delivery/regions", params={"q": "向阳"})).json()["items"]
    assert [(f["code"], f["path"]) for f in found] == [("370602001", ["山东省", "烟台市", "芝罘区", "向阳街道"])]
    under = await delivery.client.get("/api/v1/delivery/regions", params={"q": "街道", "parent": "370611"})
    assert under.status_code == 200 and all(f["code"].startswith("370611") for f in under.json()["items"])
    bad = await delivery.client.get("/api/v1/delivery/regions", params={"parent": "3"})
    assert bad.status_code == 422
