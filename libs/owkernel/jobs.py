"""Periodic jobs and start-up steps: what a service runs besides answering requests.

Each service lists its jobs in one ``jobs.py`` (``JOBS`` and ``STARTUP``, or functions of its
settings building them) and hands them to ``create_service_app``. The kernel runs every
``PeriodicJob`` as its own task: ``run(kernel)`` then a pause of ``every`` seconds, forever;
a failure is logged and the job runs again after the pause (a scheduler must not die); the task
is cancelled when the service stops.

Several replicas: a job marked ``single=True`` runs under a PostgreSQL advisory lock named after
it (``pg_try_advisory_xact_lock``), so while one replica runs it the others skip that round
instead of doing the same work twice; on SQLite (one process) there is nothing to share. Jobs that claim
rows (``FOR UPDATE SKIP LOCKED``) need no lock: they share the work instead.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy import func, select

if TYPE_CHECKING:
    from owkernel.kernel import Kernel

log = structlog.get_logger("owkernel.jobs")

# Run once; returning True means "more is waiting": run again at once instead of pausing.
JobRun = Callable[["Kernel[Any, Any]"], Awaitable[bool | None]]
StartupStep = Callable[["Kernel[Any, Any]"], Awaitable[None]]
# The advisory lock class of single jobs (the two-key form: class, key), apart from the
# application's own lock classes.
_JOB_LOCK_CLASS = 7_100


@dataclass(frozen=True)
class PeriodicJob:
    """``run`` every ``every`` seconds while the service runs."""

    name: str
    every: float
    run: JobRun
    single: bool = False
    # Pause before the first round (0: at start).
    delay: float = 0.0


@dataclass(frozen=True)
class Startup:
    """A step run once at start-up, before the app serves; ``required=False`` logs a failure and goes on."""

    name: str
    run: StartupStep
    required: bool = True


async def run_startup(steps: tuple[Startup, ...] | list[Startup], kernel: Kernel[Any, Any]) -> None:
    """Run the start-up steps in order."""
    for step in steps:
        try:
            await step.run(kernel)
        except Exception as exc:
            if step.required:
                raise
            log.warning("startup.step_failed", step=step.name, error=repr(exc))


async def run_forever(job: PeriodicJob, kernel: Kernel[Any, Any]) -> None:
    """The task of one periodic job: run, pause, again; log and go on after a failure."""
    if job.delay:
        await asyncio.sleep(job.delay)
    while True:
        more = False
        try:
            more = bool(await _run_once(job, kernel))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # logged; the next round tries again
            log.exception("job.failed", job=job.name, error=repr(exc))
        if not more:
            await asyncio.sleep(job.every)


async def _run_once(job: PeriodicJob, kernel: Kernel[Any, Any]) -> bool | None:
    if not job.single or kernel.db.engine.dialect.name != "postgresql":
        return await job.run(kernel)
    # A connection of its own holds a transaction-level lock for the round (the job's own
    # transactions use other connections): however the round ends, even cancelled, the lock goes
    # with that transaction, when the connection is closed or handed back to the pool.
    async with kernel.db.engine.connect() as conn, conn.begin():
        lock = select(func.pg_try_advisory_xact_lock(_JOB_LOCK_CLASS, _lock_key(job.name)))
        if not (await conn.execute(lock)).scalar():
            return None
        return await job.run(kernel)


def _lock_key(name: str) -> int:
    """A stable signed 32-bit key for a job's name."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "big", signed=True)


def start_jobs(jobs: tuple[PeriodicJob, ...] | list[PeriodicJob], kernel: Kernel[Any, Any]) -> None:
    """Start one task per job; ``kernel.tasks`` keeps them for cancellation at stop."""
    for job in jobs:
        kernel.tasks.append(asyncio.create_task(run_forever(job, kernel), name=f"job:{job.name}"))
