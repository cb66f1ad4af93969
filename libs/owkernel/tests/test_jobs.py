"""The kernel's seams: periodic jobs (pace, failures, cancellation, one replica at a time),
``kernel_of`` on a session, and the fake clock."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any, cast

import pytest

from owkernel.clock import FakeClock, SystemClock
from owkernel.db import Database
from owkernel.jobs import PeriodicJob, Startup, run_forever, run_startup
from owkernel.kernel import Kernel, kernel_of
from owkernel.settings import ServiceSettings


def fake_kernel(db: Database | None = None) -> Kernel[Any, Any]:
    """What the job runner reads of a kernel: its database (for single jobs) and its tasks."""
    return cast(Kernel[Any, Any], SimpleNamespace(db=db, tasks=[]))


async def test_a_failing_round_is_logged_and_the_job_runs_again_until_cancelled() -> None:
    rounds: list[int] = []
    fourth = asyncio.Event()

    async def flaky(kernel: Kernel[Any, Any]) -> None:
        rounds.append(len(rounds))
        if len(rounds) == 2:
            raise RuntimeError("a bad round")
        if len(rounds) == 4:
            fourth.set()

    task = asyncio.create_task(run_forever(PeriodicJob("flaky", 0.01, flaky), fake_kernel()))
    await asyncio.wait_for(fourth.wait(), timeout=5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert task.cancelled() and len(rounds) >= 4, "rounds went on after the failed second one"


async def test_a_round_saying_more_is_waiting_runs_again_without_the_pause() -> None:
    waiting = [3]

    async def drain(kernel: Kernel[Any, Any]) -> bool:
        waiting[0] -= 1
        return waiting[0] > 0

    task = asyncio.create_task(run_forever(PeriodicJob("drain", 3600, drain), fake_kernel()))
    await asyncio.sleep(0.05)
    task.cancel()
    assert waiting[0] == 0, "three rounds back to back, then the hour's pause"


async def test_a_single_job_runs_in_one_replica_at_a_time(database_url: str) -> None:
    db = Database(database_url)
    running = 0
    most = 0
    entered = asyncio.Event()

    async def slow(kernel: Kernel[Any, Any]) -> None:
        nonlocal running, most
        running += 1
        most = max(most, running)
        entered.set()
        await asyncio.sleep(0.3)
        running -= 1

    job = PeriodicJob("single-test", 3600, slow, single=True)
    replicas = [asyncio.create_task(run_forever(job, fake_kernel(db))) for _ in range(2)]
    await entered.wait()
    await asyncio.sleep(0.5)
    for task in replicas:
        task.cancel()
    await asyncio.gather(*replicas, return_exceptions=True)
    await db.dispose()
    # PostgreSQL: the second replica finds the lock taken and skips its round. SQLite is one
    # process (embedded mode): no lock, both rounds run.
    assert most == (1 if db.engine.dialect.name == "postgresql" else 2)


async def test_startup_steps_run_in_order_and_only_required_ones_stop_the_start() -> None:
    ran: list[str] = []

    async def ok(kernel: Kernel[Any, Any]) -> None:
        ran.append("ok")

    async def broken(kernel: Kernel[Any, Any]) -> None:
        ran.append("broken")
        raise RuntimeError("no")

    await run_startup([Startup("optional", broken, required=False), Startup("ok", ok)], fake_kernel())
    assert ran == ["broken", "ok"]
    with pytest.raises(RuntimeError):
        await run_startup([Startup("required", broken)], fake_kernel())


async def test_kernel_of_a_session_is_the_kernel_of_its_database(database_url: str) -> None:
    db = Database(database_url)
    async with db.transaction() as session:
        with pytest.raises(RuntimeError):
            kernel_of(session)
    kernel = Kernel(
        settings=ServiceSettings(database_url=database_url),
        state="state",
        clock=SystemClock(),
        db=db,
        bus=None,  # type: ignore[arg-type]  # kernel_of reads none of these
        tables=None,  # type: ignore[arg-type]
        http=None,  # type: ignore[arg-type]
        relay=None,  # type: ignore[arg-type]
        consumers=None,
    )
    kernel.attach()
    async with db.transaction() as session:
        assert kernel_of(session) is kernel and kernel_of(session).state == "state"
    await db.dispose()


def test_fake_clock_moves_only_when_told_and_keeps_aware_times() -> None:
    start = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
    clock = FakeClock(start)
    assert clock.now() == start
    clock.advance(1.5)
    clock.advance(timedelta(minutes=1))
    assert clock.now() == start + timedelta(seconds=61.5)
    with pytest.raises(ValueError):
        clock.set_to(datetime(2026, 3, 2))
    assert SystemClock().now().tzinfo is not None
