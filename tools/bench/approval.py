"""Approval's benchmark: the card scan over many open clocks, and the deadline computation rate.

    PYTHONPATH=.:libs .venv/bin/python -m tools.bench.approval [--clocks N] [--due PER_MILLE]

With ONEWINDOW_TEST_PG_URL set it runs on a fresh PostgreSQL database with 1,000,000 open clocks
(bulk-inserted with one INSERT ... SELECT generate_series); otherwise on a SQLite file with
100,000. ``--due`` clocks per thousand reach their yellow or red date at the scan (cards, events
and reminders are then written for them); the rest are quiet and must cost nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select, text

from owkernel.clock import FakeClock
from owkernel.db import Database, is_sqlite
from owkernel.migrations import upgrade
from owtest import TestEnvironment, drop_database, fresh_database_url
from services.approval.calendar.service import load_calendar, package_years, seed_from_package
from services.approval.calendar.workdays import WorkingCalendar, YearData
from services.approval.clocks.models import Clock
from services.approval.runtime import Runtime
from services.approval.settings import ApprovalSettings
from services.approval.supervision.models import Card
from services.approval.supervision.repository import claim_red
from services.approval.supervision.service import run_scan

INI = Path(__file__).resolve().parents[2] / "services" / "approval" / "alembic.ini"
TODAY = date(2026, 11, 26)

# One row per clock; ``g`` runs 1..N. Per thousand: ``due`` are newly yellow (half) or newly red
# (half) today, 50 are already red (carded before), the rest fall due 2 to 60 days from now.
PG_FILL = """
INSERT INTO supervision_clocks (clock_id, kind, ref, department, application_no, started_on, working_days,
    suspended_days, extension_days, due_date, yellow_on, provisional, status, card_level, opened_at)
SELECT 'bench-' || g,
       CASE WHEN g % 3 = 0 THEN 'application' ELSE 'task' END,
       'ref-' || g,
       'D' || (g % 59),
       'APP-' || (g / 3),
       CAST(:today AS date) - 3,
       5, 0, 0,
       CASE WHEN g % 1000 < CAST(:due AS integer) / 2 THEN CAST(:today AS date) - 1
            WHEN g % 1000 < CAST(:due AS integer) THEN CAST(:today AS date) + 1
            WHEN g % 1000 < CAST(:due AS integer) + 50 THEN CAST(:today AS date) - 10
            ELSE CAST(:today AS date) + 2 + (g % 59) END,
       CASE WHEN g % 1000 < CAST(:due AS integer) THEN CAST(:today AS date) - 1
            WHEN g % 1000 < CAST(:due AS integer) + 50 THEN CAST(:today AS date) - 12
            ELSE CAST(:today AS date) + 1 + (g % 59) END,
       false, 'running',
       CASE WHEN g % 1000 >= CAST(:due AS integer) AND g % 1000 < CAST(:due AS integer) + 50 THEN 2 ELSE 0 END,
       now()
FROM generate_series(1, CAST(:n AS integer)) AS g
"""

SQLITE_FILL = """
WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < :n)
INSERT INTO supervision_clocks (clock_id, kind, ref, department, application_no, started_on, working_days,
    suspended_days, extension_days, due_date, yellow_on, provisional, status, card_level, opened_at)
SELECT 'bench-' || g,
       CASE WHEN g % 3 = 0 THEN 'application' ELSE 'task' END,
       'ref-' || g,
       'D' || (g % 59),
       'APP-' || (g / 3),
       date(:today, '-3 days'),
       5, 0, 0,
       CASE WHEN g % 1000 < :due / 2 THEN date(:today, '-1 days')
            WHEN g % 1000 < :due THEN date(:today, '+1 days')
            WHEN g % 1000 < :due + 50 THEN date(:today, '-10 days')
            ELSE date(:today, '+' || (2 + g % 59) || ' days') END,
       CASE WHEN g % 1000 < :due THEN date(:today, '-1 days')
            WHEN g % 1000 < :due + 50 THEN date(:today, '-12 days')
            ELSE date(:today, '+' || (1 + g % 59) || ' days') END,
       0, 'running',
       CASE WHEN g % 1000 >= :due AND g % 1000 < :due + 50 THEN 2 ELSE 0 END,
       '2026-11-20 00:00:00.000000'
FROM s
"""


async def fill(db: Database, *, clocks: int, due: int) -> float:
    """Bulk-insert the clocks in SQL; seconds taken."""
    started = time.perf_counter()
    sql = SQLITE_FILL if is_sqlite(db.url) else PG_FILL
    today: object = TODAY.isoformat() if is_sqlite(db.url) else TODAY
    async with db.transaction() as session:
        await session.execute(text(sql), {"n": clocks, "due": due, "today": today})
    async with db.engine.connect() as conn:
        await conn.execute(text("ANALYZE"))
        await conn.commit()
    return time.perf_counter() - started


async def explain(db: Database) -> list[str]:
    """PostgreSQL's plan of the red claim's inner query (it must read the partial index)."""
    query = "EXPLAIN QUERY PLAN " if is_sqlite(db.url) else "EXPLAIN (ANALYZE, BUFFERS) "
    query += (
        "SELECT clock_id FROM supervision_clocks WHERE supervision_clocks.status = 'running' "
        "AND supervision_clocks.card_level < 2 AND due_date < '2026-11-26' ORDER BY due_date LIMIT 5000"
    )
    async with db.engine.connect() as conn:
        rows = (await conn.execute(text(query))).all()
    return [" | ".join(str(c) for c in row) for row in rows]


def deadline_rate(calendar: WorkingCalendar, n: int) -> tuple[float, float]:
    """Deadlines per second (random start in 2025-2026, 1-60 working days), and p50 microseconds."""
    rng = random.Random(7)
    starts = [date(2025, 1, 1) + timedelta(days=rng.randrange(0, 720)) for _ in range(n)]
    days = [rng.randrange(1, 61) for _ in range(n)]
    started = time.perf_counter()
    for s, d in zip(starts, days, strict=True):
        calendar.add_working_days(s, d)
    elapsed = time.perf_counter() - started
    samples = []
    for s, d in zip(starts[:2000], days[:2000], strict=True):
        t = time.perf_counter_ns()
        calendar.add_working_days(s, d)
        samples.append((time.perf_counter_ns() - t) / 1000)
    return n / elapsed, statistics.median(samples)


async def main_async(args: argparse.Namespace) -> None:
    env = TestEnvironment()
    clocks = args.clocks or (1_000_000 if env.pg_url else 100_000)
    with tempfile.TemporaryDirectory() as tmp:
        url = fresh_database_url("approval_bench", Path(tmp))
        backend = "SQLite" if is_sqlite(url) else "PostgreSQL"
        print(f"database: {backend}; open clocks: {clocks:,}; newly due per thousand: {args.due}", flush=True)
        await asyncio.to_thread(upgrade, INI, url)
        db = Database(url, pool_size=4)
        try:
            settings = ApprovalSettings(database_url=url, card_scan_batch=args.batch)
            runtime = Runtime.build(settings, FakeClock(datetime(2026, 11, 26, 2, 0, tzinfo=UTC)))
            async with db.transaction() as session:
                await seed_from_package(session, now=runtime.now())
            filled = await fill(db, clocks=clocks, due=args.due)
            async with db.transaction() as session:
                total = (await session.execute(select(func.count()).select_from(Clock))).scalar_one()
            print(f"fill: {total:,} clocks inserted with one SQL statement in {filled:.1f}s")
            for line in await explain(db):
                print(f"  plan: {line}")

            started = time.perf_counter()
            first = await run_scan(db, runtime=runtime, today=TODAY)
            busy = time.perf_counter() - started
            raised = first.yellow + first.red
            print(
                f"scan with cards to raise: {busy * 1000:.0f} ms for {raised:,} cards "
                f"({first.yellow:,} yellow, {first.red:,} red) over {total:,} open clocks, "
                f"with their events and reminders ({raised / busy:,.0f} cards/s)"
            )
            quiet = []
            for _ in range(5):
                started = time.perf_counter()
                again = await run_scan(db, runtime=runtime, today=TODAY)
                quiet.append(time.perf_counter() - started)
                assert again.yellow == again.red == 0
            median = statistics.median(quiet) * 1000
            print(
                f"steady scan (nothing new) over {total:,} open clocks: median {median:.1f} ms,"
                f" max {max(quiet) * 1000:.1f} ms"
            )
            async with db.transaction() as session:
                cards = (await session.execute(select(func.count()).select_from(Card))).scalar_one()
                probe = time.perf_counter()
                await claim_red(session, today=TODAY, limit=5000)
                probe = time.perf_counter() - probe
            print(f"cards written: {cards:,} (each clock and color once); empty claim probe: {probe * 1000:.1f} ms")

            async with db.transaction() as session:
                calendar = await load_calendar(session)
                started = time.perf_counter()
                for _ in range(1000):
                    await load_calendar(session)
                cached = (time.perf_counter() - started) / 1000
            rate, p50 = deadline_rate(calendar, args.deadlines)
            print(
                f"deadline computation: {rate:,.0f} deadlines/s (p50 {p50:.1f} us; 1-60 working days over "
                f"2025-2027); cached calendar check {cached * 1000:.2f} ms per event"
            )
            years = package_years()
            plain = WorkingCalendar({y: YearData() for y in years})
            started = time.perf_counter()
            for _ in range(20):
                WorkingCalendar(
                    {
                        y: YearData(
                            holidays=frozenset(d for d, k, _ in days if k == "holiday"),
                            workdays=frozenset(d for d, k, _ in days if k == "workday"),
                        )
                        for y, days in years.items()
                    }
                )
            print(
                f"calendar rebuild after a change ({len(years)} years): "
                f"{(time.perf_counter() - started) / 20 * 1000:.1f} ms; weekday-only years: {len(plain.years)}"
            )
        finally:
            await db.dispose()
            await drop_database(url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clocks", type=int, default=0, help="open clocks (default 1,000,000 on PG, 100,000 SQLite)")
    parser.add_argument("--due", type=int, default=5, help="clocks per thousand that turn yellow or red at the scan")
    parser.add_argument("--batch", type=int, default=5000, help="cards per scan transaction")
    parser.add_argument("--deadlines", type=int, default=200_000, help="deadlines to compute for the rate")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
