"""The floor: what the platform bench's traffic costs with no business in it (issue 22).

Given the work the platform did (HTTP requests through the gateway, events published, events
consumed) and how long it took, this runs the same amount of the same kinds of work at the same
pace, on the same machine, through the same kernel code:

- the real gateway process (``tools.stack``) in front of a trivial upstream built on the kernel's
  ``create_service_app`` (so the same middleware stack), whose one route answers a constant;
- one events process: a producer commits its events through the kernel's outbox and
  relay, and trivial handlers consume them through the kernel's ``ConsumerRunner`` (one durable
  and one database per consuming group, as each service has its own);
- a nats-server.

Two events per transaction (``EVENTS_PER_TRANSACTION``): the platform's own outbox rows, grouped
by transaction (same correlation id, consecutive ids, written within 5 ms) after an 8-second run
on 2026-12-06, gave 2,366 events in about 1,333 commits, 1.8 per commit; a use case with no
business is a commit that carries its events and nothing else. Every figure is printed apart
(gateway, upstream, events, NATS), so the split can be read; the platform bench's
``--floor-events-per-transaction`` shows how much of the floor the commits are (1,000 events
cost the events process 3.0 CPU-s one per transaction, 1.4 three per, 0.9 ten per).

The platform's CPU per application divided by this floor's is a multiple that does not depend on
how fast the machine is today.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvloop
from fastapi import APIRouter, FastAPI
from pydantic_settings import SettingsConfigDict
from sqlalchemy.ext.asyncio import AsyncSession

from owkernel.app import create_service_app
from owkernel.bus import Bus
from owkernel.consumer import ConsumerGroup, ConsumerOptions, ConsumerRunner
from owkernel.contracts import Envelope
from owkernel.contracts.intake import ApplicationNotAccepted, ApplicationReturned
from owkernel.db import Database, new_metadata
from owkernel.http import make_http_client
from owkernel.outbox import Outbox, OutboxRelay
from owkernel.runtime import tune_gc
from owkernel.settings import PlatformSettings, ServiceSettings
from owkernel.tables import KernelTables, kernel_tables
from owtest import free_port, subprocess_env, wait_for_port
from tools.stack import BY_NAME, COMPONENTS, ROOT, Stack, base_env

FLOOR_PATH = "/api/v1/catalog/items/FLOOR"  # a prefix the gateway routes to intake's slot
# About as many in flight as in the platform bench (8 citizens, a clerk, an approver, a watcher).
HTTP_WORKERS = 8
PRODUCERS = 8
EVENTS_PER_TRANSACTION = 2  # as measured in the platform's outboxes (module docstring)


@dataclass(frozen=True)
class Work:
    """An amount of platform traffic: what the floor repeats."""

    requests: int  # HTTP requests served by the gateway
    published: int  # events published from outboxes
    consumed: int  # events handled by consumers (every group that reads an event handles it once)
    seconds: float  # how long the platform took; the floor runs at the same pace
    # How the floor commits its events (the platform's split is not counted by any metric): see
    # EVENTS_PER_TRANSACTION.
    events_per_transaction: int = EVENTS_PER_TRANSACTION

    def per(self, applications: int) -> str:
        """The counts per application, for the report."""
        n = max(applications, 1)
        return (
            f"{self.requests / n:.1f} HTTP requests through the gateway, {self.published / n:.1f} events "
            f"published, {self.consumed / n:.1f} events consumed per application"
        )


# --- the trivial upstream (``uvicorn --factory tools.bench.floor:create_upstream``) -------------


class FloorUpstreamSettings(ServiceSettings):
    """The floor's upstream (env prefix ``FLOOR_UPSTREAM_``)."""

    model_config = SettingsConfigDict(env_prefix="FLOOR_UPSTREAM_", extra="ignore")

    service_name: str = "floor-upstream"


def create_upstream() -> FastAPI:
    """A service on the kernel with one route that does nothing but answer."""
    router = APIRouter()

    @router.get("/api/v1/catalog/items/{code}")
    async def constant(code: str) -> dict[str, str]:
        return {"code": code}

    return create_service_app(
        settings=FloorUpstreamSettings(),
        tables=kernel_tables(new_metadata()),
        routers=[router],
        title="floor upstream",
    )


# --- the events process (``python -m tools.bench.floor --events ...``) ------------------------


def fan_out(published: int, consumed: int) -> tuple[int, int]:
    """How ``published`` events are handled ``consumed`` times in all: every group handles the
    first kind, and one more group also handles the second kind; returns (groups handling both
    kinds, events of the second kind)."""
    if published <= 0:
        return 0, 0
    return consumed // published, consumed % published


async def paced(total: int, seconds: float, workers: int, one: Callable[[int], Awaitable[None]]) -> None:
    """Call ``one(i)`` for i in 0..total-1, starting the i-th at i/total of ``seconds`` (open loop:
    the floor is offered the platform's pace, whatever it reaches)."""
    start = time.perf_counter()
    counter = iter(range(total))

    async def worker() -> None:
        for i in counter:
            delay = start + i * seconds / total - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            await one(i)

    await asyncio.gather(*(worker() for _ in range(workers)))


async def sqlite_with_kernel_tables(path: Path) -> tuple[Database, KernelTables]:
    """A database of its own with the kernel's tables (outbox, handled events), as a service has."""
    metadata = new_metadata()
    tables = kernel_tables(metadata)
    db = Database(f"sqlite+aiosqlite:///{path}")
    async with db.engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    return db, tables


async def start_consumers(work: Work, bus: Bus, data_dir: Path) -> tuple[list[ConsumerRunner], asyncio.Event]:
    """The consuming groups (each its own durable and database), handlers that only count; the
    event is set once ``work.consumed`` events were handled."""
    both, second = fan_out(work.published, work.consumed)
    handled = asyncio.Event()
    count = [0]

    async def nothing(session: AsyncSession, data: Any, envelope: Envelope) -> None:
        count[0] += 1
        if count[0] >= work.consumed:
            handled.set()

    runners: list[ConsumerRunner] = []
    for g in range(both + (1 if second else 0)):
        group = ConsumerGroup(service=f"floor{g}")
        if g < both:
            group.on(ApplicationReturned)(nothing)
        group.on(ApplicationNotAccepted)(nothing)
        db, tables = await sqlite_with_kernel_tables(data_dir / f"floor{g}.db")
        runners.append(ConsumerRunner(group, db=db, bus=bus, tables=tables, options=ConsumerOptions()))
    for runner in runners:
        runner.start()
    return runners, handled


async def consume_and_publish(work: Work, nats_url: str, data_dir: Path) -> None:
    """Set up producer and consumers, say ``ready``, on ``go`` publish at the platform's pace, say
    ``done`` once every event was handled, then wait to be stopped (the parent reads our CPU)."""
    bus = Bus(nats_url, name="floor-events", namespace="floor")
    await bus.connect()
    await bus.ensure_streams()
    tune_gc(PlatformSettings().gc_threshold)
    runners, handled = await start_consumers(work, bus, data_dir)
    producer, tables = await sqlite_with_kernel_tables(data_dir / "floor-producer.db")
    relay = OutboxRelay(producer, bus, tables, service="floor")
    outbox = Outbox(tables, source="intake")
    relay.start()
    print("ready", flush=True)
    await asyncio.to_thread(sys.stdin.readline)
    _, second = fan_out(work.published, work.consumed)

    per = work.events_per_transaction

    async def publish(t: int) -> None:
        # ``second`` events of the kind one more group reads; with no group reading every event
        # (fewer consumed than published), the other kind is read by nobody.
        numbers = range(t * per, min((t + 1) * per, work.published))
        events = [
            (ApplicationNotAccepted if i < second else ApplicationReturned)(application_no=f"F{i}", reason="floor")
            for i in numbers
        ]
        async with producer.transaction() as session:
            await outbox.add_many(session, events)

    await paced(-(-work.published // per), work.seconds, PRODUCERS, publish)
    if work.consumed:
        await handled.wait()
    print("done", flush=True)
    await asyncio.to_thread(sys.stdin.readline)
    await relay.stop()
    for runner in runners:
        await runner.stop()
    await bus.close()


# --- the run (in the bench's process) --------------------------------------------------------


@dataclass(frozen=True)
class Floor:
    """What the floor's processes spent on ``work``."""

    cpu: dict[str, float]  # CPU seconds by process, from the first request to the last event handled
    errors: int  # HTTP requests that did not answer 200
    seconds: float


async def scrape(client: Any, urls: dict[str, str]) -> dict[str, dict[str, float]]:
    """Each component's series from its /metrics (name -> base URL), summed over their labels:
    component -> metric name -> total. One read of each page per moment the bench looks."""
    scraped: dict[str, dict[str, float]] = {}
    for name, url in urls.items():
        totals: dict[str, float] = {}
        for line in (await client.get(f"{url}/metrics")).text.splitlines():
            if not line or line.startswith("#"):
                continue
            metric, _, value = line.rpartition(" ")
            series = metric.split("{", 1)[0]
            totals[series] = totals.get(series, 0.0) + float(value)
        scraped[name] = totals
    return scraped


def work_of(scraped: dict[str, dict[str, float]]) -> dict[str, float]:
    """The kernel's work counters in a ``scrape``: requests the gateway served, events published
    from outboxes, events handled by consumers (summed over the components)."""
    return {
        # Requests through the gateway only: each one the floor repeats costs a hop upstream too.
        "requests": scraped.get("gateway", {}).get("onewindow_http_requests_total", 0.0),
        "published": sum(m.get("onewindow_outbox_published_total", 0.0) for m in scraped.values()),
        "consumed": sum(m.get("onewindow_events_handled_total", 0.0) for m in scraped.values()),
    }


def floor_stack(data_dir: Path, extra_env: dict[str, str]) -> Stack:
    """The gateway as ``tools.stack`` starts it, every service URL on the trivial upstream's port."""
    upstream_port = free_port()
    ports = {c.name: upstream_port for c in COMPONENTS} | {"gateway": free_port(), "province": free_port()}
    return Stack(data_dir=data_dir, ports=ports, nats_port=free_port(), extra_env=extra_env, log_json=False)


def start_processes(stack: Stack, work: Work) -> subprocess.Popen[str]:
    """nats-server, the gateway (migrated), the upstream and the events process (``ready``)."""
    stack.start_nats()
    assert stack.nats_url is not None
    gateway_env = base_env() | stack.extra_env | stack.component_env(BY_NAME["gateway"])
    alembic = [sys.executable, "-m", "alembic", "-c", str(BY_NAME["gateway"].ini), "upgrade", "head"]
    subprocess.run(alembic, env=gateway_env, cwd=ROOT, check=True, capture_output=True)
    port = stack.ports["intake"]
    upstream_env = base_env() | {
        "FLOOR_UPSTREAM_DATABASE_URL": f"sqlite+aiosqlite:///{stack.data_dir / 'upstream.db'}",
        "FLOOR_UPSTREAM_NATS_URL": stack.nats_url,
        "FLOOR_UPSTREAM_JWKS_URL": f"{stack.gateway_url}/.well-known/jwks.json",
        "FLOOR_UPSTREAM_LOG_LEVEL": "WARNING",
    }
    uvicorn = [sys.executable, "-m", "uvicorn", "--factory", "tools.bench.floor:create_upstream"]
    uvicorn += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log"]
    log = open(stack.data_dir / "logs" / "upstream.log", "ab")  # noqa: SIM115 - the child owns it
    # Registered with the stack, so that stop_all() stops it with the rest.
    stack.processes["upstream"] = subprocess.Popen(
        uvicorn, env=upstream_env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    stack.start("gateway")
    events_cmd = [sys.executable, "-m", "tools.bench.floor", "--events", stack.nats_url, str(stack.data_dir)]
    events_cmd += [str(work.requests), str(work.published), str(work.consumed), str(work.seconds)]
    events_cmd += [str(work.events_per_transaction)]
    events = subprocess.Popen(
        events_cmd,
        env=subprocess_env(ROOT),
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    stack.processes["events"] = events  # type: ignore[assignment]  # text pipes; only pid and poll are used
    wait_for_port(port, timeout=60)
    stack.wait_ready(["gateway"], timeout=120)
    assert events.stdout is not None
    if events.stdout.readline().strip() != "ready":
        raise RuntimeError("the floor's events process did not start")
    return events


def floor_cpu(stack: Stack, cpu_seconds: Callable[[int], float]) -> dict[str, float]:
    """CPU seconds each floor process has used so far."""
    cpu = {name: cpu_seconds(proc.pid) for name, proc in stack.processes.items() if name != "province"}
    if stack.nats is not None and stack.nats.process is not None:
        cpu["nats-server"] = cpu_seconds(stack.nats.process.pid)
    return cpu


async def drive(stack: Stack, events: subprocess.Popen[str], work: Work, cpu_seconds: Callable[[int], float]) -> Floor:
    """The measured part: the requests and the events at the platform's pace, at the same time."""
    assert events.stdin is not None and events.stdout is not None
    errors = [0]
    async with make_http_client(base_url=stack.gateway_url, timeout=60, max_keepalive=200) as client:
        password = stack.extra_env.get("ONEWINDOW_ADMIN_PASSWORD", "")
        login = await client.post("/api/v1/auth/login", json={"account": "admin", "password": password})
        login.raise_for_status()
        # Every request carries a real token, as the platform's do: the gateway verifies each.
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}

        async def get(i: int) -> None:
            r = await client.get(FLOOR_PATH, headers=headers)
            errors[0] += r.status_code != 200

        before = floor_cpu(stack, cpu_seconds)
        started = time.monotonic()
        events.stdin.write("go\n")
        events.stdin.flush()
        await paced(work.requests, work.seconds, HTTP_WORKERS, get)
        if (await asyncio.to_thread(events.stdout.readline)).strip() != "done":
            raise RuntimeError("the floor's events process failed")
        seconds = time.monotonic() - started
        after = floor_cpu(stack, cpu_seconds)
    return Floor(cpu={k: after[k] - before[k] for k in after}, errors=errors[0], seconds=seconds)


def run_floor(work: Work, data_dir: Path, extra_env: dict[str, str], cpu_seconds: Callable[[int], float]) -> Floor:
    """Start the floor's processes, measure ``work`` through them, stop them."""
    stack = floor_stack(data_dir, extra_env)
    try:
        events = start_processes(stack, work)
        floor = uvloop.run(drive(stack, events, work, cpu_seconds))
        assert events.stdin is not None
        events.stdin.write("stop\n")
        events.stdin.flush()
        events.wait(timeout=60)
        return floor
    finally:
        stack.stop_all()


def main() -> None:
    """``--events NATS_URL DIR REQUESTS PUBLISHED CONSUMED SECONDS PER_TRANSACTION``: the events process."""
    if sys.argv[1:2] != ["--events"] or len(sys.argv) != 9:
        sys.exit("the floor runs inside the platform bench: python -m tools.bench platform")
    nats_url, data_dir, requests, published, consumed, seconds, per_transaction = sys.argv[2:9]
    work = Work(int(requests), int(published), int(consumed), float(seconds), int(per_transaction))
    uvloop.run(consume_and_publish(work, nats_url, Path(data_dir)))


if __name__ == "__main__":
    main()
