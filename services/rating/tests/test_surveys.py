"""Survey import: good rows kept, bad rows reported by line and reason, the same file twice adds nothing."""

from __future__ import annotations

from typing import Any

from services.rating.tests.harness import Client, assert_figures_consistent, yesterday

DAY = yesterday().isoformat()

GOOD_AND_BAD = (
    "response_id,surveyed_on,department,window,item_code,score,comment\n"
    f"R1,{DAY},D-SURVEY,general,ITEM-9,5,满意\n"
    f"R2,{DAY},D-SURVEY,general,ITEM-9,非常不满意,排队太久\n"  # a level's name counts as its score (1)
    f"R3,{DAY},D-SURVEY,general,ITEM-9,7,\n"  # line 4: score out of range
    f"R4,not-a-date,D-SURVEY,general,ITEM-9,4,\n"  # line 5: bad date
    "\n"  # a blank line is no row
    f",{DAY},D-SURVEY,general,ITEM-9,4,\n"  # line 7: no response id
    f"R5,{DAY},,general,ITEM-9,4,\n"  # line 8: no department
    f'R6,{DAY},D-SURVEY,commercial,ITEM-9,3,"多行\n备注"\n'  # a quoted comment over two lines
    "R7,2999-01-01,D-SURVEY,general,ITEM-9,5,\n"  # line 11: in the future
    f"R1,{DAY},D-SURVEY,general,ITEM-9,5,\n"  # the same response again in the file: a duplicate
)


async def upload(rating: Client, content: bytes, institution: str = "第三方调查所", **headers: str) -> Any:
    return await rating.http.post(
        "/api/v1/surveys/imports",
        data={"institution": institution},
        files={"file": ("survey.csv", content, "text/csv")},
        headers={**rating.admin, **headers},
    )


async def test_good_rows_kept_bad_rows_reported_repeat_adds_nothing(rating: Client) -> None:
    r = await upload(rating, GOOD_AND_BAD.encode())
    assert r.status_code == 201, r.text
    report = r.json()
    assert (report["rows"], report["added"], report["duplicates"], report["rejected"]) == (9, 3, 1, 5)
    by_line = {e["line"]: e["reason"] for e in report["errors"]}
    assert set(by_line) == {4, 5, 7, 8, 11}
    assert "score" in by_line[4] and "surveyed_on" in by_line[5] and "response_id" in by_line[7]
    assert "department" in by_line[8] and "future" in by_line[11]

    stats = (await rating.http.get("/api/v1/ratings/stats", params={"by": "channel"})).json()
    survey = next(i for i in stats["items"] if i["key"] == "survey")
    assert (survey["count"], survey["satisfied"], survey["bad_reviews"]) == (3, 2, 1)

    again = await upload(rating, GOOD_AND_BAD.encode())
    assert again.status_code == 201
    assert (again.json()["added"], again.json()["duplicates"], again.json()["rejected"]) == (0, 4, 5)
    stats = (await rating.http.get("/api/v1/ratings/stats", params={"by": "channel"})).json()
    assert next(i for i in stats["items"] if i["key"] == "survey")["count"] == 3

    # The same responses from another institution are other responses.
    other = await upload(rating, GOOD_AND_BAD.encode(), institution="另一家调查所")
    assert other.json()["added"] == 3

    listing = await rating.http.get("/api/v1/surveys/imports", headers=rating.admin)
    assert len(listing.json()["items"]) == 3
    one = await rating.http.get(f"/api/v1/surveys/imports/{report['import_id']}", headers=rating.admin)
    assert one.json()["errors"] == report["errors"]
    await assert_figures_consistent(rating)


async def test_a_bad_survey_response_is_followed_up(rating: Client) -> None:
    content = f"response_id,surveyed_on,department,score\nBAD-1,{DAY},D-FOLLOW,2\n".encode()
    assert (await upload(rating, content)).json()["added"] == 1
    cases = await rating.http.get(
        "/api/v1/rectifications", params={"department": "D-FOLLOW"}, headers=rating.supervisor
    )
    assert [(c["channel"], c["score"], c["status"]) for c in cases.json()["items"]] == [("survey", 2, "open")]


async def test_gb18030_file_and_header_problems(rating: Client) -> None:
    content = f"response_id,surveyed_on,department,score,comment\nG1,{DAY},D-GBK,4,办事很方便\n".encode("gb18030")
    r = await upload(rating, content)
    assert r.status_code == 201 and r.json()["added"] == 1

    missing = await upload(rating, b"response_id,department,score\nX1,D,5\n")
    assert missing.status_code == 422 and "surveyed_on" in missing.json()["detail"]
    assert (await upload(rating, b"")).status_code == 422
    assert (await upload(rating, b"\xff\xfe\x00garbage\xff")).status_code == 422


async def test_only_admins_import_and_a_key_replays(rating: Client) -> None:
    content = f"response_id,surveyed_on,department,score\nK1,{DAY},D-KEY,5\n".encode()
    r = await rating.http.post(
        "/api/v1/surveys/imports",
        data={"institution": "X"},
        files={"file": ("s.csv", content, "text/csv")},
        headers=rating.supervisor,
    )
    assert r.status_code == 403
    first = await upload(rating, content, **{"Idempotency-Key": "survey-k1"})
    again = await upload(rating, content, **{"Idempotency-Key": "survey-k1"})
    assert first.json()["import_id"] == again.json()["import_id"]
    assert again.headers.get("idempotent-replayed") == "true"
