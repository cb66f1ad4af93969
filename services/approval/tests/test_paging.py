"""Approval's lists page with the kernel's keyset step: every page is the next one, and a cursor
that is not one of ours is a 422 before any query runs (a forged time was an error inside the
query before)."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from owkernel.pagination import encode_cursor
from services.approval.tests.harness import Approval, accepted, at

LISTS = [
    "/api/v1/tasks",
    "/api/v1/clocks",
    "/api/v1/supervision/cards",
    "/api/v1/supervision/records",
    "/api/v1/supervision/notifications",
]


async def test_tasks_and_clocks_page_through_every_row_once(approval: Approval) -> None:
    department = f"PAGE-{uuid.uuid4().hex[:6]}"
    numbers = [f"PG-{uuid.uuid4().hex[:8]}" for _ in range(3)]
    for no in numbers:
        await approval.publish(accepted(no, departments=[department], accepted_at=at(date(2026, 11, 2))))
    for no in numbers:
        await approval.open_tasks(department, no)
    for path, id_field in (("/api/v1/tasks", "task_id"), ("/api/v1/clocks", "clock_id")):
        ids: list[str] = []
        applications: set[str] = set()
        cursor: str | None = None
        pages = 0
        while True:
            params: dict[str, str | int] = {"limit": 2, "department": department}
            if cursor:
                params["cursor"] = cursor
            r = await approval.client.get(path, params=params, headers=approval.supervisor())
            assert r.status_code == 200, r.text
            page = r.json()
            ids += [item[id_field] for item in page["items"]]
            applications |= {item["application_no"] for item in page["items"]}
            pages += 1
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert applications == set(numbers), path
        assert len(ids) == len(set(ids)), f"{path}: a row listed twice"
        assert pages >= 2, f"{path}: two rows a page make more than one page"


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize(
    "key",
    [
        ["not a time", "x"],
        ["2026-11-02T10:00:00", "x"],  # no offset: no database reads it the same way
        [5, "x"],
        ["2026-11-02T10:00:00+08:00"],
    ],
)
async def test_a_forged_cursor_is_refused(approval: Approval, path: str, key: list[object]) -> None:
    r = await approval.client.get(path, params={"cursor": encode_cursor(key)}, headers=approval.supervisor())  # type: ignore[arg-type]
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "cursor" and r.json()["errors"][0]["code"] == "cursor_invalid"


@pytest.mark.parametrize("path", ["/api/v1/supervision/records", "/api/v1/supervision/notifications"])
async def test_an_integer_tie_breaker_must_be_one(approval: Approval, path: str) -> None:
    forged = encode_cursor(["2026-11-02T10:00:00+08:00", "7"])
    r = await approval.client.get(path, params={"cursor": forged}, headers=approval.supervisor())
    assert r.status_code == 422, r.text
    fine = encode_cursor(["2026-11-02T10:00:00+08:00", 7])
    assert (await approval.client.get(path, params={"cursor": fine}, headers=approval.supervisor())).status_code == 200
