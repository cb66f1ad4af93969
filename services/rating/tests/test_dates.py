"""Dates and times at their edges: months and days the hall's calendar cannot shift are a 422, never
a 500; every stored instant comes back aware and the same instant on both databases."""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from owtest import eventually
from services.rating.known_applications.models import Application
from services.rating.tests.harness import Client, Feeder, accepted, decided_application, idn, unique
from services.rating.tests.test_surveys import upload

OFFSET = re.compile(r"T\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d:\d\d|Z)$")


def assert_problem(r: Any, status: int, field: str | None = None) -> None:
    """A problem+json answer with this status (and naming the field, when given)."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    if field is not None:
        assert field in r.text


def cursor(*key: Any) -> str:
    """A cursor as a client could forge one (cursors are plain base64 JSON)."""
    return base64.urlsafe_b64encode(json.dumps(list(key)).encode()).decode().rstrip("=")


async def known(rating: Client, application_no: str) -> None:
    """Wait until rating has taken in the application's acceptance."""

    async def check() -> bool:
        async with rating.svc.kernel.db.transaction() as session:
            return await session.get(Application, application_no) is not None

    await eventually(check, timeout=15)


async def test_assessment_months_at_the_calendars_edges_are_refused(rating: Client) -> None:
    # 0001-01 starts before the first instant in UTC; 9999-12 has no next month to end at.
    for month in ("0001-01", "0002-01", "1969-12", "9999-12", "0000-01", "2026-00", "2026-13"):
        r = await rating.http.post("/api/v1/assessments", json={"month": month}, headers=rating.supervisor)
        assert_problem(r, 422, "month")
    # A month well inside the range still computes (there is nothing to score here).
    r = await rating.http.post("/api/v1/assessments", json={"month": "1970-01"}, headers=rating.supervisor)
    assert r.status_code == 201, r.text


async def test_figure_periods_at_the_calendars_edges_are_refused(rating: Client) -> None:
    for params in ({"from": "0001-01-01"}, {"to": "9999-12-31"}, {"from": "0001-01-01", "to": "9999-12-31"}):
        r = await rating.http.get("/api/v1/ratings/stats", params={"by": "department", **params})
        assert_problem(r, 422)
    r = await rating.http.get("/api/v1/ratings/stats", params={"from": "1970-01-01", "to": "9998-12-31"})
    assert r.status_code == 200, r.text


async def test_a_survey_dated_at_the_calendars_start_is_a_rejected_row(rating: Client) -> None:
    content = "response_id,surveyed_on,department,score\nE1,0001-01-01,D-EDGE,5\n"
    r = await upload(rating, content.encode(), institution=unique("边界"))
    assert r.status_code == 201, r.text
    assert (r.json()["added"], r.json()["rejected"]) == (0, 1)
    assert "surveyed_on" in r.json()["errors"][0]["reason"]


async def test_forged_cursors_at_the_calendars_edges_are_refused(rating: Client) -> None:
    for instant in ("0001-01-01T00:00:00+08:00", "9999-12-31T23:00:00-08:00"):
        for path, headers in (
            ("/api/v1/ratings", rating.supervisor),
            ("/api/v1/rectifications", rating.supervisor),
            ("/api/v1/rectifications/published", {}),
            ("/api/v1/surveys/imports", rating.admin),
        ):
            r = await rating.http.get(path, params={"cursor": cursor(instant, "X-1")}, headers=headers)
            assert_problem(r, 422, "cursor")


async def test_an_instant_in_another_zone_is_kept_as_that_instant(rating: Client, feeder: Feeder) -> None:
    # 09:00 in the hall is 01:00 UTC: SQLite keeps no offset, so it must be stored as UTC.
    at = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    no = unique("APP")
    await feeder.publish(accepted(no, id_number=idn(), at=at))
    await known(rating, no)
    async with rating.svc.kernel.db.transaction() as session:
        row = await session.get(Application, no)
        assert row is not None
        assert row.accepted_at.tzinfo is not None
        assert row.accepted_at == at and row.accepted_at.utcoffset() == UTC.utcoffset(None)


async def test_rating_answers_carry_an_offset(rating: Client, feeder: Feeder) -> None:
    no, applicant = await decided_application(rating, feeder, department="D-TZ")
    r = await rating.http.post(
        "/api/v1/ratings", json={"application_no": no, "score": 1, "comment": "慢"}, headers=rating.citizen(applicant)
    )
    assert r.status_code == 201, r.text
    assert OFFSET.search(r.json()["rated_at"]), r.json()["rated_at"]
    # Read back from the database, not from the objects the request built.
    listed = (await rating.http.get("/api/v1/ratings", headers=rating.citizen(applicant))).json()["items"]
    assert [OFFSET.search(i["rated_at"]) is not None for i in listed] == [True]
    case = r.json()["rectification_id"]
    one = (await rating.http.get(f"/api/v1/rectifications/{case}", headers=rating.supervisor)).json()
    assert OFFSET.search(one["opened_at"]), one
