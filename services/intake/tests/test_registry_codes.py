"""The codes a console reads on intake's registries: a code already taken is <thing>_exists, a
forged cursor is cursor_invalid, and the registries page through every row once."""

from __future__ import annotations

from typing import Any

from owkernel.pagination import encode_cursor
from services.intake.tests.harness import SIMPLE_ITEM, Hall

COUNTY: dict[str, Any] = {
    "code": "ZHANGDIAN",
    "name": "张店区政务服务中心",
    "level": "county",
    "region_code": "370303000000",
}


async def test_a_code_taken_is_thing_exists(hall: Hall) -> None:
    assert (await hall.client.post("/api/v1/halls", json=COUNTY, headers=hall.admin)).status_code == 201
    again = await hall.client.post("/api/v1/halls", json=COUNTY, headers=hall.admin)
    assert again.status_code == 409 and again.json()["code"] == "hall_exists", again.text
    await hall.add_item()
    item = await hall.client.post("/api/v1/catalog/items", json=SIMPLE_ITEM, headers=hall.admin)
    assert item.status_code == 409 and item.json()["code"] == "item_exists", item.text


async def test_registries_page_once_through_and_refuse_forged_cursors(hall: Hall) -> None:
    assert (await hall.client.post("/api/v1/halls", json=COUNTY, headers=hall.admin)).status_code == 201
    codes: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, str | int] = {"limit": 1} | ({"cursor": cursor} if cursor else {})
        page = (await hall.client.get("/api/v1/halls", params=params)).json()
        codes += [h["code"] for h in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert codes == ["CITY", COUNTY["code"]]
    for path in ("/api/v1/halls", "/api/v1/departments", "/api/v1/catalog/items"):
        for forged in (encode_cursor([5]), encode_cursor(["a", "b"]), "!!"):
            r = await hall.client.get(path, params={"cursor": forged})
            assert r.status_code == 422, (path, r.text)
            assert r.json()["errors"][0]["code"] == "cursor_invalid", (path, r.text)
