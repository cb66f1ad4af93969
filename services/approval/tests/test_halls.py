"""City and county halls (issue 19): approval learns an application's hall from the accepted event;
its clocks, cards and tasks carry it, and supervision reads per hall and by hall."""

from __future__ import annotations

from datetime import date

from services.approval.tests.harness import Approval, accepted, at


async def test_cards_tasks_and_summary_per_hall(alone: Approval) -> None:
    county = accepted("H-1", departments=["LAND"], committed_days=2, accepted_at=at(date(2026, 11, 2)))
    await alone.publish(county.model_copy(update={"hall": "ZHANGDIAN"}))
    # An intake older than halls says nothing: the city's hall.
    await alone.publish(accepted("H-2", departments=["LAND"], committed_days=2, accepted_at=at(date(2026, 11, 2))))
    [county_task] = await alone.open_tasks("LAND", "H-1")
    [city_task] = await alone.open_tasks("LAND", "H-2")
    assert county_task["hall"] == "ZHANGDIAN" and city_task["hall"] == "CITY"
    opened = await alone.wait_events("approval.clock.opened", 2, application_no="H-1")
    assert {e.data["hall"] for e in opened} == {"ZHANGDIAN"}

    alone.clock.set(date(2026, 11, 9))
    assert (await alone.scan())["red"] == 4
    raised = await alone.wait_events("approval.card.raised", 2, application_no="H-1")
    assert {e.data["hall"] for e in raised} == {"ZHANGDIAN"}
    sup = alone.supervisor()
    by_hall = await alone.client.get("/api/v1/supervision/cards", params={"hall": "ZHANGDIAN"}, headers=sup)
    assert by_hall.status_code == 200, by_hall.text
    assert {(c["application_no"], c["hall"]) for c in by_hall.json()["items"]} == {("H-1", "ZHANGDIAN")}
    assert len(by_hall.json()["items"]) == 2
    city = await alone.client.get("/api/v1/supervision/cards", params={"hall": "CITY"}, headers=sup)
    assert {c["application_no"] for c in city.json()["items"]} == {"H-2"}
    every = await alone.client.get("/api/v1/supervision/cards", headers=sup)
    assert {c["application_no"] for c in every.json()["items"]} == {"H-1", "H-2"}
    bad = await alone.client.get("/api/v1/supervision/cards", params={"hall": "no hall"}, headers=sup)
    assert bad.status_code == 422

    tasks = await alone.client.get("/api/v1/tasks", params={"hall": "ZHANGDIAN"}, headers=sup)
    assert [t["application_no"] for t in tasks.json()["items"]] == ["H-1"]

    # The summary: one hall's departments, and every hall side by side; unchanged without hall.
    one = (await alone.client.get("/api/v1/supervision/summary", params={"hall": "ZHANGDIAN"}, headers=sup)).json()
    assert one["red_cards"] == 2 and [(d["department"], d["red_cards"]) for d in one["departments"]] == [("LAND", 2)]
    halls = (await alone.client.get("/api/v1/supervision/summary", params={"by": "hall"}, headers=sup)).json()
    assert {d["hall"]: d["red_cards"] for d in halls["departments"]} == {"CITY": 2, "ZHANGDIAN": 2}
    assert all(d["department"] is None for d in halls["departments"])
    plain = (await alone.client.get("/api/v1/supervision/summary", headers=sup)).json()
    assert [(d["department"], d["red_cards"], d["hall"]) for d in plain["departments"]] == [("LAND", 4, None)]
