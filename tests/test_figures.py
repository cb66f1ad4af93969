"""The published figures through the gateway: a county hall's month, from what really happened."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.e2e import MAIL, PDF, Caller, admin, approve, citizen, new_item, staff, status_is, wait_for
from tests.harness import ADMIN_PASSWORD, Platform
from tools import seed

pytestmark = [pytest.mark.stack, pytest.mark.xdist_group("stack")]


def upload(caller: Caller, no: str, code: str) -> None:
    caller.call(
        "PUT",
        f"/api/v1/applications/{no}/materials/{code}",
        (200, 201),
        files={"file": (f"{code}.pdf", PDF, "application/pdf")},
    )


def test_a_county_halls_month_online_and_at_the_window_with_deferred_material(platform: Platform) -> None:
    url = platform.url
    root = admin(url, ADMIN_PASSWORD)
    # A hall of its own, so the month holds only this story's applications.
    city = next(h for h in root.call("GET", "/api/v1/halls", 200)["items"] if h["code"] == "CITY")
    hall = "FIG" + uuid.uuid4().hex[:6].upper()
    region = city["region_code"][:4] + "81000000"
    root.call(
        "POST",
        "/api/v1/halls",
        201,
        json={"code": hall, "name": "测试县政务服务中心", "level": "county", "region_code": region},
    )
    dept = "FIG" + uuid.uuid4().hex[:5].upper()
    item = new_item(root, department=dept)
    name = f"fig_clerk_{uuid.uuid4().hex[:6]}"
    root.call(
        "POST",
        "/api/v1/admin/staff",
        (200, 201),
        json={"username": name, "password": "E2e-Pass-123!", "name": name, "roles": ["clerk"], "hall": hall},
    )
    clerk = Caller(url).login(name, "E2e-Pass-123!")
    approver = staff(url, root, "approver", dept)
    me, _ = citizen(url, clerk=clerk)
    _, walk_in = citizen(url, clerk=clerk)

    # Online: made, filled and submitted by the applicant, accepted whole, mailed out (no trip).
    online = me.call("POST", "/api/v1/applications", 201, json={"item_code": item, "hall": hall, "delivery": MAIL})
    no1 = online["application_no"]
    upload(me, no1, "M1")
    upload(me, no1, "M2")
    me.call("POST", f"/api/v1/applications/{no1}/submit", (200, 201, 202))
    clerk.call(
        "POST",
        f"/api/v1/applications/{no1}/acceptance",
        (200, 201),
        json={"decision": "accept", "deferred_materials": [], "reason": ""},
    )
    # At the window (one trip): the clerk applies for a walk-in, M2 deferred (容缺).
    window = clerk.call(
        "POST",
        "/api/v1/applications",
        201,
        json={"item_code": item, "applicant_id_number": walk_in, "applicant_name": "窗口居民", "delivery": MAIL},
    )
    no2 = window["application_no"]
    upload(clerk, no2, "M1")
    clerk.call("POST", f"/api/v1/applications/{no2}/submit", (200, 201, 202))
    clerk.call(
        "POST",
        f"/api/v1/applications/{no2}/acceptance",
        (200, 201),
        json={"decision": "accept", "deferred_materials": ["M2"], "reason": ""},
    )
    for no in (no1, no2):
        approve(approver, no)
        wait_for("approved", status_is(clerk, no, "approved", "completed", "delivering", "delivered"), 30)

    month = datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")
    params = {"from": month, "to": month, "hall": hall}

    expected = {
        "month": month,
        "source": "computed",
        "applications": 2,
        "online_share": 0.5,
        "zero_trip_share": 0.5,
        "one_trip_share": 0.5,
        "deferred_share": 0.5,
        "on_time_rate": 1.0,
        "red_cards": 0,
        "consultations_on_time_rate": None,
        "satisfaction_rate": None,
        "projects": {"count": 0, "key": 0, "investment_fen": 0},
    }

    def settled() -> dict[str, Any] | None:
        # Intake's and approval's events reach rating on their own streams: wait for all of them.
        body: dict[str, Any] = Caller(url).call("GET", "/api/v1/figures", 200, params=params)
        return body["months"][0] if body["months"][0] == expected else None

    # wait_for's failure shows the last row seen beside what was expected.
    assert wait_for(f"the month's figures {expected}", settled, 60) == expected
    # The same month as CSV, anonymously, through the gateway.
    r = Caller(url).http.get("/api/v1/figures", params=params, headers={"Accept": "text/csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.text.split("\n")[1].startswith(f"{month},computed,2,0.5000,0.5000,0.5000,0.5000,1.0000,0,,")


def test_the_demo_seed_loads_county_halls_and_their_published_history(platform: Platform) -> None:
    months = seed._months_before(datetime.now(seed.HALL_ZONE).date(), seed.HISTORY_MONTHS)
    codes = {h["code"] for h in Caller(platform.url).call("GET", "/api/v1/halls", 200, params={"limit": 100})["items"]}
    assert {"CITY", "ZICHUAN", "ZHANGDIAN"} <= codes
    expected = {
        r["month"]: r for r in seed.history_figures(["CITY", "ZICHUAN", "ZHANGDIAN"], months) if r["hall"] == "ZICHUAN"
    }
    body = Caller(platform.url).call(
        "GET", "/api/v1/figures", 200, params={"from": months[0], "to": months[-1], "hall": "ZICHUAN"}
    )
    assert [m["month"] for m in body["months"]] == months
    for row in body["months"]:
        want = expected[row["month"]]
        assert row["source"] == "imported"
        assert (row["applications"], row["online_share"], row["red_cards"]) == (
            want["applications"],
            want["online_share"],
            want["red_cards"],
        )
        assert row["projects"] == {
            "count": want["projects_count"],
            "key": want["projects_key"],
            "investment_fen": want["projects_investment_fen"],
        }
    # All halls: each month sums the three halls' applications.
    every = Caller(platform.url).call("GET", "/api/v1/figures", 200, params={"from": months[0], "to": months[-1]})
    rows = seed.history_figures(["CITY", "ZICHUAN", "ZHANGDIAN"], months)
    assert [m["applications"] for m in every["months"]] == [
        sum(r["applications"] for r in rows if r["month"] == m) for m in months
    ]
    # A second seed (the next `make run`) changes none of it.
    seed.seed(platform.url, ADMIN_PASSWORD)
    assert (
        Caller(platform.url).call("GET", "/api/v1/figures", 200, params={"from": months[0], "to": months[-1]}) == every
    )
