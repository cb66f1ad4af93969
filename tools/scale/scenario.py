"""The scale runs' steps: a load running beside kills, terminations and a rolling restart.

Blocking steps (killing and starting processes, waiting for readiness) run in threads so the
load goes on in the event loop meanwhile, as it would against a real cluster.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

import asyncpg
import nats
from nats.aio.client import Client

from owkernel.bus import Bus
from owtest import TestEnvironment
from tools.scale.checks import Report, check_all, longest_publish_wait, plain_dsn, settle
from tools.scale.load import Gateways, Load, Seen, prepare
from tools.scale.platform import SERVICES, ScalePlatform


@dataclass
class Run:
    """A load running against the platform."""

    platform: ScalePlatform
    seen: Seen
    load: Load
    events: list[tuple[str, float]] = field(default_factory=list)

    def note(self, what: str) -> None:
        """Remember when something was done (printed with the figures)."""
        self.events.append((what, time.monotonic()))


@asynccontextmanager
async def running_load(platform: ScalePlatform, citizens: int) -> AsyncIterator[Run]:
    """Citizens applying, an approver deciding and a watcher following, until the block ends."""
    seen = Seen()
    gw = Gateways(platform.gateway_urls, seen)
    actors = await prepare(gw, platform.admin_password, citizens)
    load = Load(gw, actors)
    followers_stop = asyncio.Event()
    tasks = [asyncio.create_task(load.citizen(me)) for me in actors.citizens]
    tasks += [asyncio.create_task(load.approve(followers_stop)), asyncio.create_task(load.watch(followers_stop))]
    try:
        yield Run(platform, seen, load)
    finally:
        load.stop.set()
        followers_stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        await gw.aclose()


async def until_completed(run: Run, at_least: int, timeout: float) -> None:
    """Wait until ``at_least`` applications have completed."""
    deadline = time.monotonic() + timeout
    while len(run.load.completed) < at_least:
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {len(run.load.completed)} of {at_least} applications completed in {timeout}s")
        await asyncio.sleep(0.3)


async def drain(run: Run, timeout: float) -> None:
    """Stop new applications and wait until every started one is completed."""
    run.load.stop.set()
    deadline = time.monotonic() + timeout
    while not run.load.all_completed():
        if time.monotonic() > deadline:
            missing = [no for no in run.load.started if no not in run.load.completed]
            raise TimeoutError(f"{len(missing)} applications not completed after {timeout}s: {missing[:5]}")
        await asyncio.sleep(0.5)


# --- NATS -----------------------------------------------------------------------------------
@dataclass
class Election:
    """A stream leader killed: who, how long until a new one was elected, how long requests waited."""

    stream: str
    old_leader: str
    new_leader: str
    seconds: float
    longest_request: float
    # Wall-clock bounds of the election, to ask the outbox how long events waited meanwhile.
    since: datetime
    until: datetime
    longest_event_wait: float = 0.0


async def _cluster_client(platform: ScalePlatform) -> Client:
    return await nats.connect(platform.cluster.urls, connect_timeout=5, max_reconnect_attempts=-1)


async def kill_stream_leader(run: Run, producer: str = "intake") -> Election:
    """kill -9 the node leading ``producer``'s stream; wait for a new leader; start the node again."""
    platform = run.platform
    nc = await _cluster_client(platform)
    try:
        # A short timeout: an API request that meets no leader must not hide the moment one is back.
        js = nc.jetstream(timeout=0.5)
        stream = Bus(platform.cluster.urls[0], name="scale", namespace=platform.namespace).stream_name(producer)
        old = (await js.stream_info(stream)).cluster
        assert old is not None and old.leader, f"stream {stream} has no leader"
        started, since = time.monotonic(), datetime.now(UTC)
        run.note(f"kill -9 nats {old.leader} (leader of {stream})")
        await asyncio.to_thread(platform.cluster.kill, old.leader)
        new_leader = ""
        while not new_leader:
            try:
                info = (await js.stream_info(stream)).cluster
                if info is not None and info.leader and info.leader != old.leader:
                    new_leader = info.leader
                    break
            except Exception:  # noqa: BLE001 - no leader yet: JetStream answers with an error or not at all
                pass
            await asyncio.sleep(0.05)
        elected, until = time.monotonic(), datetime.now(UTC)
        run.note(f"new leader {new_leader}")
        await asyncio.sleep(2.0)
        await asyncio.to_thread(platform.cluster.restart, old.leader)
        run.note(f"nats {old.leader} back")
        waited = run.seen.waited(started, elected)
        return Election(stream, old.leader, new_leader, elected - started, waited, since, until)
    finally:
        await nc.close()


# --- replicas -------------------------------------------------------------------------------
async def kill_one_replica_of_each(run: Run, index: int = 1, down_seconds: float = 2.0) -> float:
    """kill -9 replica ``index`` of every service; start them again; the longest restart (seconds)."""
    platform = run.platform
    run.note(f"kill -9 replica {index} of {', '.join(SERVICES)}")
    for name in SERVICES:
        await asyncio.to_thread(platform.kill, index, name)
    await asyncio.sleep(down_seconds)
    times = await asyncio.gather(*(asyncio.to_thread(platform.restart, index, name) for name in SERVICES))
    run.note("replicas back")
    return max(times)


async def terminate_backends(run: Run, service: str = "intake", seconds: float = 3.0) -> int:
    """Terminate every PostgreSQL backend of ``service``'s database, again and again for ``seconds``."""
    database = run.platform.database_urls[service].rsplit("/", 1)[1]
    server = TestEnvironment().pg_url
    assert server, "the scale runs need ONEWINDOW_TEST_PG_URL"
    conn = await asyncpg.connect(plain_dsn(server.rstrip("/") + "/postgres"))
    run.note(f"terminate {service}'s PostgreSQL backends for {seconds:g}s")
    killed = 0
    try:
        until = time.monotonic() + seconds
        while time.monotonic() < until:
            killed += await conn.fetchval(
                "select count(pg_terminate_backend(pid)) from pg_stat_activity"
                " where datname = $1 and pid <> pg_backend_pid()",
                database,
            )
            await asyncio.sleep(0.1)
    finally:
        await conn.close()
    run.note(f"{service}'s backends left alone ({killed} terminated)")
    return killed


async def rolling_restart(run: Run) -> list[tuple[str, float]]:
    """Replace every replica, one by one, as a rollout does; (replica, seconds to ready) each."""
    rolled = []
    for index, name in run.platform.replica_names():
        run.note(f"roll {name}[{index}]")
        rolled.append((f"{name}[{index}]", await asyncio.to_thread(run.platform.roll, index, name)))
    return rolled


async def publish_wait(run: Run, election: Election) -> None:
    """Fill in how long intake's events waited in its outbox during ``election`` (after the drain)."""
    url = run.platform.database_urls["intake"]
    election.longest_event_wait = await longest_publish_wait(url, election.since, election.until)


async def verify(run: Run, timeout: float = 60.0) -> Report:
    """The checks of tools.scale.checks, retried until they hold or ``timeout`` passes."""
    platform = run.platform

    async def check() -> Report:
        return await check_all(
            database_urls=platform.database_urls,
            nats_urls=platform.cluster.urls,
            namespace=platform.namespace,
            numbers=list(run.load.started),
        )

    report = await settle(check, timeout=timeout)
    # A periodic job's round that two replicas ran at once fails on the second (a unique key) or
    # writes twice (checks.periodic_rows): neither may happen.
    # (A round that failed because the database was cut off is retried, and is not that.)
    raced = [line for line in platform.log_lines("job.failed") if "IntegrityError" in line or "Unique" in line]
    report.need(not raced, f"periodic jobs ran twice in one round: {raced[:3]}")
    return report


def latencies(run: Run) -> tuple[float, float]:
    """Median and longest create-to-completed of the run's applications (seconds)."""
    spans = [run.load.completed[no] - t for no, t in run.load.started.items() if no in run.load.completed]
    return (statistics.median(spans), max(spans)) if spans else (float("nan"), float("nan"))
