"""The catalog through HTTP: versions, cancellation, bulk import, published figures."""

from __future__ import annotations

from typing import Any

from owtest import resident_id
from services.intake.tests.harness import DEMO_CATALOG, SIMPLE_ITEM, Hall

CSV = (
    "code,name,kind,department,departments,lead_department,window,legal_days,committed_days,trips,online,fee_fen,"
    "stage,materials\n"
    'CSV-1,婚姻登记,public_service,CIVIL,,,general,1,1,1,no,900,,"ID|身份证|critical;PHOTO|照片|optional"\n'
    "CSV-2,并联事项,licensing,,PLAN;LAND,PLAN,investment,30,12,1,yes,0,2,APPLY|申请表|critical\n"
)


async def test_item_versions_history_and_cancellation(hall: Hall) -> None:
    created = await hall.add_item()
    assert created["version"] == 1 and created["status"] == "active"
    assert created["departments"] == [] and created["lead_department"] is None
    got = (await hall.client.get("/api/v1/catalog/items/T-001")).json()
    assert got == created, "anyone reads the catalog, no token needed"
    # The same PUT twice: one new version only.
    body = SIMPLE_ITEM | {"committed_days": 4, "fee_fen": 1500}
    r = await hall.client.put("/api/v1/catalog/items/T-001", json=body, headers=hall.admin)
    assert r.status_code == 200 and r.json()["version"] == 2 and r.json()["fee_fen"] == 1500
    r = await hall.client.put("/api/v1/catalog/items/T-001", json=body, headers=hall.admin)
    assert r.json()["version"] == 2
    r = await hall.client.delete("/api/v1/catalog/items/T-001", headers=hall.admin)
    assert r.status_code == 200 and r.json()["status"] == "cancelled" and r.json()["version"] == 3
    history = (await hall.client.get("/api/v1/catalog/items/T-001/history")).json()["items"]
    assert [(h["version"], h["change"], h["changed_by"]) for h in history] == [
        (1, "created", "admin"),
        (2, "adjusted", "admin"),
        (3, "cancelled", "admin"),
    ]
    assert history[1]["changes"] == {"committed_days": {"from": 5, "to": 4}, "fee_fen": {"from": 0, "to": 1500}}
    assert history[0]["item"]["committed_days"] == 5 and history[1]["item"]["committed_days"] == 4
    page = (await hall.client.get("/api/v1/catalog/items/T-001/history", params={"limit": 2})).json()
    assert len(page["items"]) == 2 and page["next_cursor"]
    rest = await hall.client.get("/api/v1/catalog/items/T-001/history", params={"cursor": page["next_cursor"]})
    assert [h["version"] for h in rest.json()["items"]] == [3]
    # Cancelled: no adjustment, not listed by default, still readable.
    r = await hall.client.put("/api/v1/catalog/items/T-001", json=SIMPLE_ITEM, headers=hall.admin)
    assert r.status_code == 409
    assert (await hall.client.get("/api/v1/catalog/items")).json()["items"] == []
    listed = (await hall.client.get("/api/v1/catalog/items", params={"status": "cancelled"})).json()["items"]
    assert [i["code"] for i in listed] == ["T-001"]
    r = await hall.client.post("/api/v1/catalog/items", json=SIMPLE_ITEM, headers=hall.admin)
    assert r.status_code == 409, "a code is never reused"
    r = await hall.client.post("/api/v1/applications", json={"item_code": "T-001"}, headers=hall.citizen(resident_id()))
    assert r.status_code == 409


async def test_item_rules_and_roles(hall: Hall) -> None:
    r = await hall.client.post("/api/v1/catalog/items", json=SIMPLE_ITEM)
    assert r.status_code == 401
    r = await hall.client.post("/api/v1/catalog/items", json=SIMPLE_ITEM, headers=hall.clerk)
    assert r.status_code == 403 and r.headers["content-type"] == "application/problem+json"

    async def bad(**change: Any) -> dict[str, Any]:
        r = await hall.client.post("/api/v1/catalog/items", json=SIMPLE_ITEM | change, headers=hall.admin)
        assert r.status_code == 422, (change, r.text)
        body: dict[str, Any] = r.json()
        return body

    problem = await bad(committed_days=30)
    assert "committed_days cannot be longer than legal_days" in str(problem["errors"])
    await bad(departments=["PLAN", "LAND"])  # a parallel item names its lead
    await bad(departments=["PLAN", "LAND"], lead_department="HOUSING")
    await bad(materials=[{"code": "M1", "name": "a"}, {"code": "M1", "name": "b"}])
    await bad(kind="permit")
    await bad(window="online")
    await bad(trips=-1)
    await bad(department=None)
    await bad(code="../etc")
    parallel = await hall.add_item(
        code="PAR-1", department=None, departments=["PLAN", "LAND"], lead_department="PLAN", window="investment"
    )
    assert parallel["department"] == "PLAN" and parallel["departments"] == ["PLAN", "LAND"]
    assert parallel["lead_department"] == "PLAN"
    single = await hall.add_item(code="ONE-1", departments=["MARKET"], lead_department="MARKET")
    assert single["departments"] == [] and single["lead_department"] is None
    land = (await hall.client.get("/api/v1/catalog/items", params={"department": "LAND"})).json()["items"]
    assert [i["code"] for i in land] == ["PAR-1"], "a parallel item is listed under each of its departments"
    found = (await hall.client.get("/api/v1/catalog/items", params={"q": "测试", "window": "commercial"})).json()
    assert [i["code"] for i in found["items"]] == ["ONE-1"]
    headers = hall.admin | {"Idempotency-Key": "create-x"}
    first = await hall.client.post("/api/v1/catalog/items", json=SIMPLE_ITEM | {"code": "X-1"}, headers=headers)
    again = await hall.client.post("/api/v1/catalog/items", json=SIMPLE_ITEM | {"code": "X-1"}, headers=headers)
    assert first.status_code == again.status_code == 201 and again.json() == first.json()
    assert (await hall.client.get("/api/v1/catalog/items/NOPE")).status_code == 404
    assert (await hall.client.delete("/api/v1/catalog/items/NOPE", headers=hall.admin)).status_code == 404


async def test_demo_catalog_import_is_idempotent(hall: Hall) -> None:
    first = await hall.import_demo()
    assert first["items"] == len(first["created"]) >= 16 and first["updated"] == [] and first["skipped"] == []
    assert {"DRC", "PLAN", "LAND", "HOUSING", "MARKET", "PUBSEC", "CIVIL", "HEALTH"} <= set(first["departments"])
    again = await hall.import_demo()
    assert again["created"] == [] and again["updated"] == [] and sorted(again["unchanged"]) == sorted(first["created"])
    history = (await hall.client.get("/api/v1/catalog/items/INV-S2/history")).json()["items"]
    assert len(history) == 1, "importing the same file twice changes nothing"
    stages = {}
    for code in ("INV-S1", "INV-S2", "INV-S3", "INV-S4"):
        item = (await hall.client.get(f"/api/v1/catalog/items/{code}")).json()
        stages[item["stage"]] = (item["department"], item["departments"], item["committed_days"])
    assert stages == {
        1: ("DRC", [], 6),
        2: ("PLAN", ["PLAN", "LAND"], 12),
        3: ("PLAN", [], 5),
        4: ("HOUSING", [], 11),
    }
    assert sum(days for _, _, days in stages.values()) == 34, "6 + 12 + 5 + 11 committed working days"
    # A changed file adjusts what changed, and only that.
    changed = DEMO_CATALOG.read_text(encoding="utf-8").replace("committed_days: 3\n", "committed_days: 2\n", 1)
    r = await hall.client.post(
        "/api/v1/catalog/import", headers=hall.admin, files={"file": ("catalog.yaml", changed.encode(), "text/yaml")}
    )
    assert r.status_code == 200 and r.json()["updated"] == ["MARKET-001"]
    assert (await hall.client.get("/api/v1/catalog/items/MARKET-001")).json()["version"] == 2
    # A cancelled item is not brought back by an import.
    await hall.client.delete("/api/v1/catalog/items/CIVIL-002", headers=hall.admin)
    r = await hall.client.post(
        "/api/v1/catalog/import", headers=hall.admin, files={"file": ("catalog.yaml", changed.encode(), "text/yaml")}
    )
    assert [s["code"] for s in r.json()["skipped"]] == ["CIVIL-002"]


async def test_import_csv_and_bad_files(hall: Hall) -> None:
    r = await hall.client.post(
        "/api/v1/catalog/import", headers=hall.admin, files={"file": ("items.csv", CSV.encode(), "text/csv")}
    )
    assert r.status_code == 200, r.text
    assert r.json()["created"] == ["CSV-1", "CSV-2"] and r.json()["departments"] == ["CIVIL", "LAND", "PLAN"]
    one = (await hall.client.get("/api/v1/catalog/items/CSV-1")).json()
    assert one["online"] is False and one["fee_fen"] == 900
    assert one["materials"] == [
        {"code": "ID", "name": "身份证", "critical": True},
        {"code": "PHOTO", "name": "照片", "critical": False},
    ]
    two = (await hall.client.get("/api/v1/catalog/items/CSV-2")).json()
    assert two["departments"] == ["PLAN", "LAND"] and two["stage"] == 2

    async def refused(name: str, content: bytes, status: int = 422) -> dict[str, Any]:
        r = await hall.client.post(
            "/api/v1/catalog/import", headers=hall.admin, files={"file": (name, content, "application/octet-stream")}
        )
        assert r.status_code == status, r.text
        body: dict[str, Any] = r.json()
        return body

    bad_row = CSV.replace("CSV-2,并联事项", "CSV-3,坏事项").replace(",30,12,", ",10,12,")
    problem = await refused("items.csv", bad_row.encode())
    assert problem["errors"][0]["field"].startswith("row 3")
    assert (await hall.client.get("/api/v1/catalog/items/CSV-3")).status_code == 404, "all or nothing"
    await refused("a.yaml", b"items: [")
    await refused("a.yaml", b"a: &x [1]\nitems: *x\n")  # no YAML aliases
    await refused("a.yaml", b"items:\n  - {code: D, name: x}\n  - {code: D, name: y}\n")
    await refused("a.yaml", "\ufffe".encode("utf-16"))
    await refused("a.yaml", b"items: []\n")
    await refused("big.yaml", b"#" * (3 * 1024 * 1024), status=413)
    r = await hall.client.post(
        "/api/v1/catalog/import", headers=hall.clerk, files={"file": ("items.csv", CSV.encode(), "text/csv")}
    )
    assert r.status_code == 403


async def test_stats_from_catalog_and_visits(hall: Hall) -> None:
    await hall.add_item(code="A", trips=0, online=True)
    await hall.add_item(code="B", trips=1, online=False)
    await hall.add_item(code="C", trips=2, online=False, kind="public_service")
    await hall.add_item(code="D", trips=1, online=True)
    await hall.client.delete("/api/v1/catalog/items/D", headers=hall.admin)
    stats = (await hall.client.get("/api/v1/catalog/stats")).json()
    assert stats["items"] == 3 and stats["cancelled_items"] == 1
    assert stats["zero_or_one_trip_share"] == round(2 / 3, 4) and stats["online_share"] == round(1 / 3, 4)
    assert stats["by_kind"]["licensing"] == {"items": 2, "zero_or_one_trip_share": 1.0, "online_share": 0.5}
    assert stats["trips_made"]["applications"] == 0 and stats["trips_made"]["within_declared_share"] is None
    # "Zero trips" promised for A, but the applicant came to the window for it: counted.
    idn = resident_id()
    at_window = await hall.submitted(hall.clerk, "A", applicant_id_number=idn)
    online = await hall.submitted(hall.citizen(idn), "A")
    for no in (at_window, online):
        assert (await hall.accept(no)).status_code == 200
    trips = (await hall.client.get("/api/v1/catalog/stats")).json()["trips_made"]
    assert trips["applications"] == 2 and trips["within_declared"] == 1 and trips["within_declared_share"] == 0.5
    assert trips["items"] == [
        {
            "item_code": "A",
            "name": "测试许可事项",
            "declared_trips": 0,
            "applications": 2,
            "average_trips_made": 0.5,
            "max_trips_made": 1,
            "over_declared": 1,
        }
    ]
