"""Waiting for the applicant stops the clocks; the deadline moves by exactly the working days
waited, overlapping waits counted once, every move on the ledger with its reasons. Events that
arrive before the acceptance they follow are retried, never lost."""

from __future__ import annotations

from datetime import date

from owkernel.contracts.intake import ApplicationResumed, ApplicationSuspended
from owtest import eventually
from services.approval.tests.harness import Approval, accepted, at


async def test_overlapping_waits_move_the_deadline_by_the_working_days_waited(approval: Approval) -> None:
    # Accepted Monday 2 November, 5 working days: due Monday 9 November.
    await approval.publish(
        accepted("S-1", departments=["LAND", "PLAN"], lead="LAND", accepted_at=at(date(2026, 11, 2)))
    )
    tasks = await approval.open_tasks("LAND", "S-1")
    assert tasks[0]["due_date"] == "2026-11-09"
    # A correction from Wednesday 4, an unpaid fee from Thursday 5; the correction arrives on
    # Thursday, the fee is paid on Friday 6: the file waited Wednesday and Thursday (2 days).
    # (A deferred material, 容缺, is no wait: see test_deferred.)
    await approval.publish(
        ApplicationSuspended(application_no="S-1", key="correction:1", reason="correction", at=at(date(2026, 11, 4)))
    )
    await approval.publish(
        ApplicationSuspended(application_no="S-1", key="payment", reason="unpaid_fee", at=at(date(2026, 11, 5), 9))
    )

    async def suspended() -> bool:
        return bool((await approval.open_tasks_now("LAND", "S-1"))[0]["suspended"])

    await eventually(suspended)
    await approval.publish(ApplicationResumed(application_no="S-1", key="correction:1", at=at(date(2026, 11, 5), 15)))
    await approval.publish(ApplicationResumed(application_no="S-1", key="payment", at=at(date(2026, 11, 6), 11)))
    moved = await approval.wait_events("approval.clock.rescheduled", 3, application_no="S-1")
    assert {e.data["due_date"] for e in moved} == {"2026-11-11"}
    assert {e.data["suspended_days"] for e in moved} == {2} and {e.data["reason"] for e in moved} == {"suspension"}
    [task] = await approval.open_tasks_now("LAND", "S-1")
    assert task["due_date"] == "2026-11-11" and task["suspended"] is False
    clock = await approval.clock_of("application", "S-1")
    [entry] = clock["ledger"]
    assert entry["kind"] == "suspension" and entry["working_days"] == 2
    assert entry["from_date"] == "2026-11-04" and entry["to_date"] == "2026-11-06"
    assert "correction (correction:1)" in entry["reason"] and "unpaid_fee (payment)" in entry["reason"]
    assert (entry["due_before"], entry["due_after"]) == ("2026-11-09", "2026-11-11")

    # The same resumption delivered again (a new event id) changes nothing.
    await approval.publish(ApplicationResumed(application_no="S-1", key="payment", at=at(date(2026, 11, 6), 11)))
    # A wait over a weekend costs only its working days: Friday 13 to Tuesday 17 is Fri and Mon.
    await approval.publish(
        ApplicationSuspended(application_no="S-1", key="correction", reason="correction", at=at(date(2026, 11, 13)))
    )
    await approval.publish(ApplicationResumed(application_no="S-1", key="correction", at=at(date(2026, 11, 17))))
    await approval.wait_events("approval.clock.rescheduled", 6, application_no="S-1")
    clock = await approval.clock_of("application", "S-1")
    assert [e["working_days"] for e in clock["ledger"]] == [2, 2]
    assert clock["due_date"] == "2026-11-13" and clock["suspended_days"] == 4


async def test_a_wait_that_arrives_before_its_acceptance_is_applied_once_it_does(approval: Approval) -> None:
    await approval.publish(
        ApplicationSuspended(application_no="S-2", key="payment", reason="unpaid_fee", at=at(date(2026, 11, 3)))
    )
    await approval.publish(ApplicationResumed(application_no="S-2", key="payment", at=at(date(2026, 11, 4))))
    await approval.publish(accepted("S-2", departments=["LAND"], accepted_at=at(date(2026, 11, 2))))
    # The suspension and resumption are retried until the acceptance is in; Tuesday 3 was waited.
    moved = await approval.wait_events("approval.clock.rescheduled", 2, timeout=20, application_no="S-2")
    assert {e.data["due_date"] for e in moved} == {"2026-11-10"}
    [task] = await approval.open_tasks_now("LAND", "S-2")
    assert task["due_date"] == "2026-11-10"
