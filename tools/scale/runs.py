"""The three scale runs, each on a running ``ScalePlatform``: chaos under load, a rolling restart
under load, and throughput. ``tests/scale`` asserts on their outcomes; ``python -m tools.scale``
prints them as figures."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from tools.scale.checks import Report
from tools.scale.load import Seen
from tools.scale.platform import ScalePlatform
from tools.scale.scenario import (
    Election,
    drain,
    kill_one_replica_of_each,
    kill_stream_leader,
    latencies,
    publish_wait,
    rolling_restart,
    running_load,
    terminate_backends,
    until_completed,
    verify,
)


@dataclass
class Outcome:
    """What a run under load saw: the clients' record, the checks, the timings."""

    seen: Seen
    report: Report
    failures: list[str]
    started: int
    completed: int
    median_seconds: float
    longest_seconds: float
    steps: list[tuple[str, float]] = field(default_factory=list)
    election: Election | None = None
    restart_seconds: float = 0.0
    terminated: int = 0
    rolled: list[tuple[str, float]] = field(default_factory=list)

    def problems(self) -> list[str]:
        """Everything that should not have happened; empty when the run proved its point."""
        return (
            self.report.problems
            + [f"client: {f}" for f in self.failures]
            + [f"server error seen by a client: {b}" for b in self.seen.bad]
            + ([] if self.completed == self.started else [f"{self.completed}/{self.started} completed"])
        )


async def chaos(
    platform: ScalePlatform, *, citizens: int, warm: int, pause: float, drain_seconds: float = 120.0
) -> Outcome:
    """Under load: kill -9 the intake stream's leader node, then one replica of every service,
    then terminate intake's PostgreSQL backends for 3 s; bring each back; finish and check."""
    async with running_load(platform, citizens) as run:
        await until_completed(run, warm, timeout=120)
        election = await kill_stream_leader(run)
        await asyncio.sleep(pause)
        restart = await kill_one_replica_of_each(run)
        await asyncio.sleep(pause)
        terminated = await terminate_backends(run)
        await asyncio.sleep(pause)
        await drain(run, drain_seconds)
        report = await verify(run)
        await publish_wait(run, election)
    median, longest = latencies(run)
    t0 = run.events[0][1] if run.events else 0.0
    return Outcome(
        seen=run.seen,
        report=report,
        failures=run.load.failures,
        started=len(run.load.started),
        completed=sum(1 for no in run.load.started if no in run.load.completed),
        median_seconds=median,
        longest_seconds=longest,
        steps=[(what, at - t0) for what, at in run.events],
        election=election,
        restart_seconds=restart,
        terminated=terminated,
    )


async def rollout(platform: ScalePlatform, *, citizens: int, warm: int, drain_seconds: float = 120.0) -> Outcome:
    """Under load: replace every replica one by one (SIGTERM, start, ready); finish and check."""
    async with running_load(platform, citizens) as run:
        await until_completed(run, warm, timeout=120)
        rolled = await rolling_restart(run)
        await drain(run, drain_seconds)
        report = await verify(run)
    median, longest = latencies(run)
    return Outcome(
        seen=run.seen,
        report=report,
        failures=run.load.failures,
        started=len(run.load.started),
        completed=sum(1 for no in run.load.started if no in run.load.completed),
        median_seconds=median,
        longest_seconds=longest,
        rolled=rolled,
    )


async def throughput(platform: ScalePlatform, *, citizens: int, seconds: float) -> tuple[float, int]:
    """Applications completed per second over ``seconds`` of saturating load (and how many)."""
    async with running_load(platform, citizens) as run:
        await until_completed(run, 1, timeout=120)
        first = len(run.load.completed)
        started = time.monotonic()
        await asyncio.sleep(seconds)
        done = len(run.load.completed) - first
        elapsed = time.monotonic() - started
        await drain(run, 120)
    return done / elapsed, done


def describe(title: str, outcome: Outcome) -> str:
    """One run's outcome, as printed lines."""
    lines: list[str] = []
    lines.append(f"== {title}")
    for what, at in outcome.steps:
        lines.append(f"  {at:6.1f}s  {what}")
    lines.append(
        f"  applications: {outcome.completed}/{outcome.started} completed; create→completed median "
        f"{outcome.median_seconds:.1f}s, longest {outcome.longest_seconds:.1f}s"
    )
    seen = outcome.seen
    lines.append(
        f"  clients: statuses {dict(sorted(seen.statuses.items()))}; 503-with-Retry-After waited out "
        f"{seen.unavailable}; gateway replica refused, sent to the other {seen.failovers}; "
        f"broken before an answer and resent (safe to repeat) {seen.resent}"
    )
    if outcome.election is not None:
        e = outcome.election
        lines.append(
            f"  stream {e.stream}: leader {e.old_leader} killed, {e.new_leader} elected after {e.seconds:.1f}s; "
            f"the longest request started meanwhile took {e.longest_request:.2f}s, the longest an event "
            f"written meanwhile waited in the outbox {e.longest_event_wait:.1f}s"
        )
    if outcome.restart_seconds:
        lines.append(f"  killed replicas ready again within {outcome.restart_seconds:.1f}s")
    if outcome.terminated:
        lines.append(f"  PostgreSQL backends terminated: {outcome.terminated}")
    for name, seconds in outcome.rolled:
        lines.append(f"  rolled {name}: ready after {seconds:.1f}s")
    for fact in outcome.report.facts:
        lines.append(f"  {fact}")
    for problem in outcome.problems():
        lines.append(f"  PROBLEM: {problem}")
    return "\n".join(lines)
