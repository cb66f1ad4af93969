"""Benchmark of the satisfaction figures: stats query time over N ratings.

    PYTHONPATH=.:libs .venv/bin/python -m tools.bench.rating [--ratings N] [--repeat K] [--gateway-seconds S]

With ``ONEWINDOW_TEST_PG_URL`` set it runs on a fresh PostgreSQL database with 1,000,000 ratings
by default; otherwise on a SQLite file with 200,000. Ratings are bulk-inserted with one SQL
statement (generate_series / a recursive CTE): 59 departments, 3 windows, 715 items, 120 clerks,
four channels, a year of dates, mostly satisfied. Then each grouping of ``GET /api/v1/ratings/stats``
is timed through the service's own query code, over the whole year and over one month: the
roll-up the endpoint reads, and for comparison the same figures counted from every rating.
Then the whole platform is started as processes (tools.stack, same databases backend) and kiosk
votes are sent through the gateway for ``--gateway-seconds``: ratings per second and latency.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import text

from owkernel.db import Database
from owkernel.migrations import upgrade
from owtest import TestEnvironment, drop_database, fresh_database_url
from services.rating.db import import_models
from services.rating.reviews import repository

INI = Path(__file__).resolve().parents[2] / "services" / "rating" / "alembic.ini"
GROUPS = ("department", "window", "item", "clerk", "channel")

# One statement per backend; :n rows, :start the first instant, spread over 365 days.
# Scores: 70% 5, 20% 4, 7% 3, 2% 2, 1% 1. Channels: online, kiosk, link, survey.
PG_FILL = """
INSERT INTO ratings (review_id, channel, score, department, "window", item_code, clerk, rated_at, rated_on,
                     annulled, rectified, rectified_on_time)
SELECT 'RB-' || g,
       (ARRAY['online','kiosk','kiosk','link','survey'])[1 + g % 5],
       CASE WHEN r < 0.70 THEN 5 WHEN r < 0.90 THEN 4 WHEN r < 0.97 THEN 3 WHEN r < 0.99 THEN 2 ELSE 1 END,
       'D' || lpad((1 + g % 59)::text, 2, '0'),
       (ARRAY['investment','commercial','general'])[1 + g % 3],
       'I' || lpad((1 + (g * 7) % 715)::text, 3, '0'),
       'clerk' || (1 + (g * 13) % 120),
       CAST(:start AS timestamptz) + (g % 365) * interval '1 day' + (g % 86400) * interval '1 second',
       ((CAST(:start AS timestamptz) + (g % 365) * interval '1 day' + (g % 86400) * interval '1 second')
        AT TIME ZONE 'Asia/Shanghai')::date,
       false,
       r >= 0.97 AND g % 2 = 0,
       CASE WHEN r >= 0.97 AND g % 2 = 0 THEN g % 10 <> 0 ELSE NULL END
FROM (SELECT g, random() AS r FROM generate_series(1, :n) AS g) AS s
"""

SQLITE_FILL = """
WITH RECURSIVE seq(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM seq WHERE g < :n)
INSERT INTO ratings (review_id, channel, score, department, "window", item_code, clerk, rated_at, rated_on,
                     annulled, rectified, rectified_on_time)
SELECT 'RB-' || g,
       CASE g % 5 WHEN 0 THEN 'online' WHEN 1 THEN 'kiosk' WHEN 2 THEN 'kiosk' WHEN 3 THEN 'link' ELSE 'survey' END,
       CASE WHEN (g * 7919) % 100 < 70 THEN 5 WHEN (g * 7919) % 100 < 90 THEN 4
            WHEN (g * 7919) % 100 < 97 THEN 3 WHEN (g * 7919) % 100 < 99 THEN 2 ELSE 1 END,
       'D' || substr('0' || (1 + g % 59), -2),
       CASE g % 3 WHEN 0 THEN 'investment' WHEN 1 THEN 'commercial' ELSE 'general' END,
       'I' || substr('00' || (1 + (g * 7) % 715), -3),
       'clerk' || (1 + (g * 13) % 120),
       strftime('%Y-%m-%d %H:%M:%f', :start, '+' || (g % 365) || ' days', '+' || (g % 86400) || ' seconds'),
       date(:start, '+' || (g % 365) || ' days', '+' || (g % 86400) || ' seconds', '+8 hours'),
       0,
       CASE WHEN (g * 7919) % 100 >= 97 AND g % 2 = 0 THEN 1 ELSE 0 END,
       CASE WHEN (g * 7919) % 100 >= 97 AND g % 2 = 0 THEN (g % 10 <> 0) ELSE NULL END
FROM seq
"""


async def fill(db: Database, n: int, start: datetime) -> tuple[float, float]:
    """Insert ``n`` ratings in one statement, then roll them up; returns the seconds of each."""
    began = time.perf_counter()
    async with db.transaction() as session:
        if db.url.startswith("sqlite"):
            await session.execute(
                text(SQLITE_FILL), {"n": n, "start": start.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S")}
            )
        else:
            await session.execute(text(PG_FILL), {"n": n, "start": start})
    inserted = time.perf_counter()
    async with db.transaction() as session:
        await repository.rebuild_daily(session)
    async with db.engine.connect() as conn:
        await conn.execute(text("ANALYZE"))
        await conn.commit()
    return inserted - began, time.perf_counter() - inserted


Query = Callable[..., Awaitable[list[repository.StatRow]]]


async def time_query(
    db: Database, query: Query, *, by: str, start: date | None, end: date | None, repeat: int
) -> tuple[list[float], list[repository.StatRow]]:
    """Milliseconds of each of ``repeat`` runs of a figures query (after one warm-up), and its rows."""
    out: list[float] = []
    rows: list[repository.StatRow] = []
    for i in range(repeat + 1):
        began = time.perf_counter()
        async with db.transaction() as session:
            rows = await query(session, by=by, start=start, end=end)
        if i:
            out.append((time.perf_counter() - began) * 1000)
    assert rows, "the benchmark found no ratings"
    return sorted(out), rows


def summary(runs: list[float]) -> str:
    """median / p95 / max of sorted runs."""
    p95 = runs[min(len(runs) - 1, round(0.95 * (len(runs) - 1)))]
    return f"{statistics.median(runs):>9.1f}{p95:>8.1f}{runs[-1]:>8.1f}"


async def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print the figures."""
    env = TestEnvironment()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ratings", type=int, default=1_000_000 if env.pg_url else 200_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--gateway-seconds", type=float, default=10.0, help="0 skips the run through the gateway")
    parser.add_argument("--kiosks", type=int, default=40)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args(argv)
    await stats_benchmark(args)
    if args.gateway_seconds > 0:
        await gateway_benchmark(args, env)


async def stats_benchmark(args: argparse.Namespace) -> None:
    """Stats query time over ``args.ratings`` ratings."""
    import_models()
    url = fresh_database_url("rating_bench", Path(tempfile.mkdtemp(prefix="rating-bench-")))
    await asyncio.to_thread(upgrade, INI, url)
    db = Database(url, pool_size=2)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    backend = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    try:
        inserted, rolled = await fill(db, args.ratings, start)
        async with db.transaction() as session:
            daily = (await session.execute(text("SELECT count(*) FROM rating_daily"))).scalar_one()
        print(
            f"rating stats benchmark on {backend}: {args.ratings:,} ratings inserted in {inserted:.1f} s, "
            f"rolled up into {daily:,} daily rows in {rolled:.1f} s"
        )
        periods = {"whole year": (None, None), "one month": (date(2025, 6, 1), date(2025, 6, 30))}
        print(f"{'':24}{'GET /ratings/stats (roll-up)':>25}   {'same figures from every rating':>25}")
        print(f"{'by':<12}{'period':<12}" + f"{'median':>9}{'p95':>8}{'max':>8}" * 2 + "   (ms)")
        for by in GROUPS:
            for label, (first, last) in periods.items():
                fast, rows = await time_query(db, repository.stats, by=by, start=first, end=last, repeat=args.repeat)
                slow, reference = await time_query(
                    db, repository.stats_from_ratings, by=by, start=first, end=last, repeat=max(1, args.repeat // 2)
                )
                assert rows == reference, f"the roll-up disagrees with the ratings ({by}, {label})"
                print(f"{by:<12}{label:<12}{summary(fast)}{summary(slow)}")
    finally:
        await db.dispose()
        await drop_database(url)


async def gateway_benchmark(args: argparse.Namespace, env: TestEnvironment) -> None:
    """Kiosk votes per second through the gateway, with the whole platform running as processes."""
    import httpx

    from tools.stack import COMPONENTS, test_stack

    password = "Bench-Admin-Pass-1!"
    data_dir = Path(tempfile.mkdtemp(prefix="rating-bench-stack-"))
    urls = {c.name: fresh_database_url(f"rbench_{c.name}", data_dir) for c in COMPONENTS}
    stack = test_stack(
        data_dir,
        nats_url=None,
        database_urls=urls,
        extra_env={
            "ONEWINDOW_ADMIN_PASSWORD": password,
            "ONEWINDOW_RATE_LIMIT_PER_SECOND": "0",
            # Throttling is per device; the benchmark measures the path, not the throttle.
            "RATING_KIOSK_MIN_INTERVAL_SECONDS": "0",
            "RATING_KIOSK_MAX_PER_HOUR": "100000000",
        },
    )
    backend = "PostgreSQL" if env.pg_url else "SQLite"
    try:
        await asyncio.to_thread(stack.start_all)
        await asyncio.to_thread(stack.wait_ready, None, 120.0)
        limits = httpx.Limits(max_connections=args.concurrency, max_keepalive_connections=args.concurrency)
        async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=30, limits=limits, trust_env=False) as http:
            login = await http.post("/api/v1/auth/login", json={"account": "admin", "password": password})
            login.raise_for_status()
            admin = {"Authorization": f"Bearer {login.json()['access_token']}"}
            keys = []
            for i in range(args.kiosks):
                r = await http.post(
                    "/api/v1/kiosks", json={"window": "general", "department": f"D{i % 12:02d}"}, headers=admin
                )
                r.raise_for_status()
                keys.append(r.json()["device_key"])
            latencies: list[float] = []
            statuses: dict[int, int] = {}
            deadline = time.monotonic() + args.gateway_seconds

            async def worker(n: int) -> None:
                i = n
                while time.monotonic() < deadline:
                    began = time.perf_counter()
                    r = await http.post(
                        "/api/v1/kiosk/ratings",
                        json={"window": "general", "score": 5 - (i % 5)},
                        headers={"X-Device-Key": keys[i % len(keys)]},
                    )
                    latencies.append((time.perf_counter() - began) * 1000)
                    statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
                    i += args.concurrency

            began = time.monotonic()
            await asyncio.gather(*(worker(n) for n in range(args.concurrency)))
            elapsed = time.monotonic() - began
            ok = statuses.get(201, 0)
            latencies.sort()
            print(
                f"\nkiosk ratings through the gateway ({backend}, {args.kiosks} kiosks, {args.concurrency} in flight): "
                f"{ok / elapsed:.0f} ratings/s over {elapsed:.0f} s; latency ms median "
                f"{statistics.median(latencies):.1f}, p95 {latencies[int(0.95 * (len(latencies) - 1))]:.1f}; "
                f"statuses {dict(sorted(statuses.items()))}"
            )
            stats_ms = []
            for _ in range(5):
                began_q = time.perf_counter()
                (await http.get("/api/v1/ratings/stats", params={"by": "department"})).raise_for_status()
                stats_ms.append((time.perf_counter() - began_q) * 1000)
            median = statistics.median(stats_ms)
            print(f"GET /api/v1/ratings/stats?by=department through the gateway: median {median:.1f} ms")
    finally:
        await asyncio.to_thread(stack.stop_all)
        for url in urls.values():
            await drop_database(url)


if __name__ == "__main__":
    asyncio.run(main())
