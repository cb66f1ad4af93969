"""Backbone benchmark: events/s and commit-to-handled latency through outbox, JetStream, consumer.

A producer process commits state changes with their events (``--per-txn`` events to a
transaction: 1 as a simple request, 10 as a use case or a consumer batch that emits several) at a
paced rate; a consumer process (a second "service", its own database) handles
them through the kernel's durable consumer and stamps the time it applied each one. Both use
the real kernel code on SQLite (or PostgreSQL with ONEWINDOW_TEST_PG_URL) and a real nats-server.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import uvloop
from sqlalchemy import Column, Float, Integer, String, Table, insert, select

from owkernel.bus import Bus
from owkernel.consumer import ConsumerGroup, ConsumerOptions, ConsumerRunner
from owkernel.contracts import Envelope
from owkernel.contracts.intake import ApplicationSubmitted
from owkernel.db import Database, new_metadata
from owkernel.outbox import Outbox, OutboxRelay
from owkernel.runtime import tune_gc
from owkernel.settings import PlatformSettings
from owkernel.tables import kernel_tables
from owtest import NatsServer, fresh_database_url, subprocess_env
from owtest.backbone import applications, producer_md, producer_tables, submitted
from tools.bench import percentile
from tools.bench.platform import cpu_seconds

# The producer side (its state table, kernel tables, the event of the real contract, so the bench
# pays its real (de)serialisation cost) is the kernel tests' backbone; the consumer stamps times.
consumer_md = new_metadata()
consumer_tables = kernel_tables(consumer_md)
handled = Table(
    "handled",
    consumer_md,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("no", String(40), nullable=False),
    Column("at", Float, nullable=False),
)


async def run_consumer(url: str, nats_url: str, namespace: str, seconds: float) -> None:
    """The consuming service: apply each event once, stamp when."""
    db = Database(url)
    async with db.engine.begin() as conn:
        await conn.run_sync(consumer_md.create_all)
    bus = Bus(nats_url, name="bench-consumer", namespace=namespace)
    await bus.connect()
    await bus.ensure_streams()
    group = ConsumerGroup(service="bench")

    @group.on(ApplicationSubmitted)
    async def on_submitted(session, data: ApplicationSubmitted, envelope: Envelope) -> None:  # type: ignore[no-untyped-def]
        await session.execute(insert(handled).values(no=data.application_no, at=time.time()))

    runner = ConsumerRunner(group, db=db, bus=bus, tables=consumer_tables, options=ConsumerOptions(batch=500))
    tune_gc(PlatformSettings().gc_threshold)
    runner.start()
    print("consumer-ready", flush=True)
    await asyncio.sleep(seconds)
    await runner.stop()
    await bus.close()
    await db.dispose()


async def produce(
    url: str, nats_url: str, namespace: str, *, events: int, rate: float, concurrency: int, per_txn: int = 1
) -> dict[str, float]:
    """Commit ``events`` changes at ``rate`` per second, ``per_txn`` to a transaction (a use case
    that emits several events); return when each committed."""
    db = Database(url)
    async with db.engine.begin() as conn:
        await conn.run_sync(producer_md.create_all)
    bus = Bus(nats_url, name="bench-producer", namespace=namespace)
    await bus.connect()
    await bus.ensure_streams()
    relay = OutboxRelay(db, bus, producer_tables, service="bench")
    tune_gc(PlatformSettings().gc_threshold)
    relay.start()
    outbox = Outbox(producer_tables, source="intake")
    committed: dict[str, float] = {}
    queue: asyncio.Queue[list[str]] = asyncio.Queue()
    start = time.perf_counter()

    async def pace() -> None:
        for i in range(0, events, per_txn):
            target = start + i / rate
            delay = target - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            await queue.put([f"B{j}" for j in range(i, min(i + per_txn, events))])
        for _ in range(concurrency):
            await queue.put([])

    async def worker() -> None:
        while nos := await queue.get():
            async with db.transaction() as session:
                for no in nos:
                    await session.execute(insert(applications).values(no=no))
                    await outbox.add(session, submitted(no))
            now = time.time()
            for no in nos:
                committed[no] = now

    await asyncio.gather(pace(), *(worker() for _ in range(concurrency)))
    while await relay.pending():
        await asyncio.sleep(0.05)
    await relay.stop()
    await bus.close()
    await db.dispose()
    return committed


async def read_handled(url: str) -> dict[str, float]:
    db = Database(url)
    async with db.transaction() as session:
        rows = (await session.execute(select(handled.c.no, handled.c.at))).all()
    await db.dispose()
    return {r.no: r.at for r in rows}


async def bench(events: int, rate: float, concurrency: int, per_txn: int = 1) -> dict[str, float]:
    """One paced run; returns the figures."""
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        server = NatsServer(store_dir=tmp_path / "nats").start()
        try:
            producer_url = fresh_database_url("bench_producer", tmp_path)
            consumer_url = fresh_database_url("bench_consumer", tmp_path)
            namespace = f"bench{int(time.time())}"
            budget = events / rate + 30
            consumer = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tools.bench.backbone",
                    "--consumer",
                    consumer_url,
                    server.url,
                    namespace,
                    str(budget),
                ],
                env=subprocess_env(),
                stdout=subprocess.PIPE,
                text=True,
            )
            assert consumer.stdout is not None
            consumer.stdout.readline()  # consumer-ready
            producer_cpu = time.process_time()
            committed = await produce(
                producer_url, server.url, namespace, events=events, rate=rate, concurrency=concurrency, per_txn=per_txn
            )
            producer_cpu = time.process_time() - producer_cpu
            deadline = time.time() + 60
            got: dict[str, float] = {}
            while time.time() < deadline:
                got = await read_handled(consumer_url)
                if len(got) >= events:
                    break
                await asyncio.sleep(0.2)
            consumer_cpu = cpu_seconds(consumer.pid)
            consumer.terminate()
            consumer.wait(timeout=30)
        finally:
            server.stop()
    latencies = [(got[no] - at) * 1000 for no, at in committed.items() if no in got]
    first_commit = min(committed.values())
    first, last = first_commit, max(got.values())
    return {
        "events": float(events),
        "handled": float(len(got)),
        "per_txn": float(per_txn),
        "committed_per_s": len(committed) / (max(committed.values()) - first_commit),
        "offered_rate": rate,
        "events_per_s": len(got) / (last - first),
        "p50_ms": statistics.median(latencies),
        "p99_ms": percentile(latencies, 99),
        "max_ms": max(latencies),
        "producer_cpu_ms": producer_cpu / events * 1000,
        "consumer_cpu_ms": consumer_cpu / events * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--rate", type=float, default=2000.0, help="offered events per second")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--per-txn", type=int, default=10, help="events committed per transaction")
    parser.add_argument("--consumer", nargs=4, metavar=("URL", "NATS", "NS", "SECONDS"))
    args = parser.parse_args()
    if args.consumer:
        url, nats_url, namespace, seconds = args.consumer
        uvloop.run(run_consumer(url, nats_url, namespace, float(seconds)))
        return
    figures = uvloop.run(bench(args.events, args.rate, args.concurrency, args.per_txn))
    print(
        f"backbone ({figures['per_txn']:.0f} events per transaction): "
        f"{figures['handled']:.0f}/{figures['events']:.0f} events handled, "
        f"{figures['events_per_s']:.0f} events/s (offered {figures['offered_rate']:.0f}/s), "
        f"commit-to-handled p50 {figures['p50_ms']:.1f} ms, p99 {figures['p99_ms']:.1f} ms, "
        f"max {figures['max_ms']:.1f} ms; CPU per event: producer {figures['producer_cpu_ms']:.3f} ms, "
        f"consumer {figures['consumer_cpu_ms']:.3f} ms"
    )


if __name__ == "__main__":
    main()
