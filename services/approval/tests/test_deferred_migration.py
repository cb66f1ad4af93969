"""Applications suspended under the old 容缺 rule (a wait per deferred material) are migrated: the
revision records their deferred materials (supplied or not), and the start-up fix, run once,
ends the deferred materials' waits as if they had never been (the due dates recounted from the
other waits only), while a wait for the fee keeps its clock stopped."""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from alembic import command

from owkernel.db import Database
from owkernel.migrations import alembic_config
from owtest import SigningKeys
from services.approval.clocks.models import Clock, ClockEntry, Suspension
from services.approval.tasks.models import Application, Task
from services.approval.tests.harness import INI, at, running_approval

MONDAY = date(2026, 11, 2)


def application(no: str, deferred: list[str]) -> Application:
    """An application accepted on Monday 2 November with ``deferred`` materials."""
    return Application(
        application_no=no,
        item_code="ITEM-1",
        item_version=1,
        item_name="建设工程规划许可",
        item_kind="licensing",
        department="LAND",
        departments=["LAND"],
        lead_department="LAND",
        committed_days=5,
        legal_days=20,
        applicant_id_number="370602198501010012",
        applicant_name="张三丰",
        applicant_kind="person",
        window="general",
        clerk="clerk1",
        deferred_materials=[{"code": c, "name": f"材料{c}", "due_date": "2026-11-16"} for c in deferred],
        accepted_at=at(MONDAY),
        started_on=MONDAY,
        status="in_review",
    )


def clock(no: str, kind: str, ref: str, **state: Any) -> Clock:
    """An open clock of 5 working days from Monday 2 November, in the old rule's ``state``."""
    values: dict[str, Any] = {
        "clock_id": f"{no}-{kind}",
        "kind": kind,
        "ref": ref,
        "department": "LAND",
        "application_no": no,
        "task_id": ref if kind == "task" else None,
        "started_on": MONDAY,
        "working_days": 5,
        "suspended_days": 0,
        "extension_days": 0,
        "due_date": date(2026, 11, 9),
        "yellow_on": date(2026, 11, 6),
        "status": "running",
        "card_level": 0,
        "opened_at": at(MONDAY),
    }
    values.update(state)
    return Clock(**values)


def wait(no: str, key: str, reason: str, started: datetime, ended: datetime | None, union: datetime) -> Suspension:
    """A wait for the applicant as the old rule wrote it."""
    return Suspension(
        application_no=no, key=key, reason=reason, started_at=started, ended_at=ended, union_started_at=union
    )


def entry(
    no: str, kind: str, reason: str, since: date, until: date, days: int, before: date, after: date
) -> ClockEntry:
    """A suspension line of the old ledger."""
    return ClockEntry(
        clock_id=f"{no}-{kind}",
        kind="suspension",
        reason=reason,
        from_date=since,
        to_date=until,
        working_days=days,
        due_before=before,
        due_after=after,
        at=at(until),
    )


async def build_old_state(url: str) -> None:
    """Two applications in the state the old rule left them.

    M-1: material M2 deferred from Monday 2 and supplied Wednesday 4 (1 working day waited), a
    correction from Thursday 5 to Monday 9 (2 days), material M3 deferred and missing since
    Tuesday 10: suspended, 3 days counted, due Thursday 12. M-2: deferred M2 missing and the fee
    unpaid, both since Monday 2: suspended.
    """
    db = Database(url)
    try:
        async with db.transaction() as session:
            session.add_all([application("M-1", ["M2", "M3"]), application("M-2", ["M2"])])
            await session.flush()
            for no in ("M-1", "M-2"):
                session.add(
                    Task(
                        task_id=f"T-{no}",
                        application_no=no,
                        department="LAND",
                        lead=True,
                        status="open",
                        clock_id=f"{no}-task",
                        created_at=at(MONDAY),
                    )
                )
            old = {
                "suspended_days": 3,
                "due_date": date(2026, 11, 12),
                "yellow_on": date(2026, 11, 11),
                "status": "suspended",
                "suspended_since": date(2026, 11, 10),
            }
            session.add_all([clock("M-1", "task", "T-M-1", **old), clock("M-1", "application", "M-1", **old)])
            held = {"status": "suspended", "suspended_since": MONDAY}
            session.add_all([clock("M-2", "task", "T-M-2", **held), clock("M-2", "application", "M-2", **held)])
            mon, wed, thu = at(MONDAY), at(date(2026, 11, 4)), at(date(2026, 11, 5))
            nov9, nov10 = at(date(2026, 11, 9)), at(date(2026, 11, 10))
            session.add_all(
                [
                    wait("M-1", "material:M2", "deferred_material", mon, wed, mon),
                    wait("M-1", "correction", "correction", thu, nov9, thu),
                    wait("M-1", "material:M3", "deferred_material", nov10, None, nov10),
                    wait("M-2", "material:M2", "deferred_material", mon, None, mon),
                    wait("M-2", "payment", "unpaid_fee", mon, None, mon),
                ]
            )
            await session.flush()
            for kind in ("task", "application"):
                session.add_all(
                    [
                        entry(
                            "M-1",
                            kind,
                            "waiting for the applicant: deferred_material (material:M2)",
                            MONDAY,
                            date(2026, 11, 4),
                            1,
                            date(2026, 11, 9),
                            date(2026, 11, 10),
                        ),
                        entry(
                            "M-1",
                            kind,
                            "waiting for the applicant: correction (correction)",
                            date(2026, 11, 5),
                            date(2026, 11, 9),
                            2,
                            date(2026, 11, 10),
                            date(2026, 11, 12),
                        ),
                    ]
                )
    finally:
        await db.dispose()


async def deferred_rows(url: str) -> list[tuple[str, str, bool]]:
    """approval_deferred_materials as (application, code, supplied)."""
    db = Database(url)
    try:
        async with db.transaction() as session:
            rows = await session.execute(
                sa.text(
                    "SELECT application_no, code, supplied_at IS NOT NULL FROM approval_deferred_materials"
                    " ORDER BY application_no, code"
                )
            )
            return [(r[0], r[1], bool(r[2])) for r in rows]
    finally:
        await db.dispose()


async def test_the_old_rules_suspensions_are_migrated(
    database_url: str, nats_url: str, namespace: str, signing_keys: SigningKeys
) -> None:
    await asyncio.to_thread(command.upgrade, alembic_config(INI, database_url), "0004")
    await build_old_state(database_url)
    await asyncio.to_thread(command.upgrade, alembic_config(INI, database_url), "head")
    assert await deferred_rows(database_url) == [("M-1", "M2", True), ("M-1", "M3", False), ("M-2", "M2", False)]

    start = at(date(2026, 11, 11))
    async with running_approval(
        database_url=database_url, nats_url=nats_url, namespace=namespace, keys=signing_keys, start=start
    ) as approval:
        # M-1: only the correction's Thursday and Friday count: 5 + 2 working days, due Wednesday 11.
        fixed = await approval.clock_of("application", "M-1")
        assert (fixed["status"], fixed["suspended_days"], fixed["due_date"]) == ("running", 2, "2026-11-11")
        assert [(e["working_days"], e["from_date"]) for e in fixed["ledger"]] == [
            (0, None),
            (0, None),
            (2, "2026-11-05"),
            (0, None),
        ]
        assert "容缺 no longer stops the clock" in fixed["ledger"][-1]["reason"]
        assert (fixed["ledger"][-1]["due_before"], fixed["ledger"][-1]["due_after"]) == ("2026-11-12", "2026-11-11")
        [task] = await approval.open_tasks_now("LAND", "M-1")
        assert task["suspended"] is False and task["due_date"] == "2026-11-11"
        moved = await approval.wait_events("approval.clock.rescheduled", 2, application_no="M-1")
        assert {e.data["due_date"] for e in moved} == {"2026-11-11"}
        # M-2 still waits for its fee: suspended since Monday, due unchanged until it is paid.
        held = await approval.clock_of("application", "M-2")
        assert (held["status"], held["due_date"]) == ("suspended", "2026-11-09")
        # The clocks run: today (Wednesday 11) is their last day, the start-up scan raised their cards.
        yellow = await approval.wait_events("approval.card.raised", 2, application_no="M-1", color="yellow")
        assert {e.data["clock_kind"] for e in yellow} == {"task", "application"}
        assert not approval.of("approval.card.raised", application_no="M-2")

    # A second start changes nothing: the fix is recorded once.
    async with running_approval(
        database_url=database_url, nats_url=nats_url, namespace=namespace, keys=signing_keys, start=start
    ) as approval:
        again = await approval.clock_of("application", "M-1")
        assert again["ledger"] == fixed["ledger"] and again["due_date"] == "2026-11-11"
