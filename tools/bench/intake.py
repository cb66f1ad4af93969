"""Benchmark of the application list: ``GET /api/v1/applications`` page time at any depth.

    PYTHONPATH=.:libs .venv/bin/python -m tools.bench.intake [--rows N] [--repeat K] [--flow M]

With ``ONEWINDOW_TEST_PG_URL`` set it runs on a fresh PostgreSQL database with 1,000,000
applications by default; otherwise on a SQLite file with 200,000. The rows are bulk-inserted with
one SQL statement (generate_series / a recursive CTE), not through the API: three windows, eight
departments, forty items, a status mix, 100,000 applicants plus one heavy applicant holding 1% of
all rows. Then the intake service runs in-process (real database, real nats-server) and pages are
fetched through HTTP (ASGI) as a clerk, an approver and an applicant would: the first page and
pages deep in the list, reached with a cursor. For contrast, the same depth with OFFSET is timed
in SQL. Finally ``--flow`` applications are created, given their material, submitted and accepted
through the API, and the rate is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

from owkernel.db import Database
from owkernel.migrations import upgrade
from owkernel.pagination import encode_cursor
from owtest import NatsServer, SigningKeys, TestEnvironment, drop_database, fresh_database_url, wait_ready
from services.intake.app import create_app
from services.intake.db import import_models
from services.intake.settings import IntakeSettings

INI = Path(__file__).resolve().parents[2] / "services" / "intake" / "alembic.ini"
HEAVY = "370602198501010019"
PEOPLE = 100_000
PAGE = 50
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
ITEM = {
    "code": "B-000",
    "version": 1,
    "name": "基准测试事项",
    "kind": "licensing",
    "department": "MARKET",
    "departments": ["MARKET"],
    "lead_department": "MARKET",
    "window": "commercial",
    "legal_days": 20,
    "committed_days": 5,
    "trips": 1,
    "fee_fen": 0,
    "online": True,
    "stage": None,
    "materials": [{"code": "M1", "name": "申请表", "critical": True}],
}
DELIVERY = {"method": "window", "address": None}
COLUMNS = """application_no, status, item_code, item_version, item_name, item_trips, item, "window", department,
    channel, applicant_id_number, applicant_kind, applicant_name, created_by, clerk, form, delivery, fee_fen,
    payment_status, created_at, updated_at, submitted_at, accepted_at"""

PG_FILL = f"""
INSERT INTO applications ({COLUMNS})
SELECT '2025-' || (ARRAY['I','C','G'])[1 + g % 3] || '-' || lpad(g::text, 7, '0'),
       (ARRAY['completed','completed','completed','completed','approved','accepted','submitted','draft',
              'not_accepted','rejected'])[1 + g % 10],
       'B-' || lpad((g % 40)::text, 3, '0'), 1, '基准测试事项', 1, CAST(:item AS json),
       (ARRAY['investment','commercial','general'])[1 + g % 3],
       (ARRAY['DRC','PLAN','LAND','HOUSING','MARKET','PUBSEC','CIVIL','HEALTH'])[1 + g % 8],
       CASE WHEN g % 4 = 0 THEN 'window' ELSE 'online' END,
       CASE WHEN g % 100 = 0 THEN :heavy ELSE 'P' || lpad((g % :people)::text, 17, '0') END,
       'person', '基准申请人', 'bench', 'clerk1', CAST('{{}}' AS json), CAST(:delivery AS json), 0, 'not_required',
       t, t, t, t
FROM (SELECT g, CAST(:start AS timestamptz) + g * interval '30 seconds' AS t
      FROM generate_series(1, :n) AS g) AS s
"""

SQLITE_FILL = f"""
WITH RECURSIVE seq(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM seq WHERE g < :n)
INSERT INTO applications ({COLUMNS})
SELECT '2025-' || CASE g % 3 WHEN 0 THEN 'I' WHEN 1 THEN 'C' ELSE 'G' END || '-' || substr('0000000' || g, -7),
       CASE g % 10 WHEN 4 THEN 'approved' WHEN 5 THEN 'accepted' WHEN 6 THEN 'submitted' WHEN 7 THEN 'draft'
                   WHEN 8 THEN 'not_accepted' WHEN 9 THEN 'rejected' ELSE 'completed' END,
       'B-' || substr('000' || (g % 40), -3), 1, '基准测试事项', 1, :item,
       CASE g % 3 WHEN 0 THEN 'investment' WHEN 1 THEN 'commercial' ELSE 'general' END,
       CASE g % 8 WHEN 0 THEN 'DRC' WHEN 1 THEN 'PLAN' WHEN 2 THEN 'LAND' WHEN 3 THEN 'HOUSING' WHEN 4 THEN 'MARKET'
                  WHEN 5 THEN 'PUBSEC' WHEN 6 THEN 'CIVIL' ELSE 'HEALTH' END,
       CASE WHEN g % 4 = 0 THEN 'window' ELSE 'online' END,
       CASE WHEN g % 100 = 0 THEN :heavy ELSE 'P' || substr('00000000000000000' || (g % :people), -17) END,
       'person', '基准申请人', 'bench', 'clerk1', '{{}}', :delivery, 0, 'not_required',
       strftime('%Y-%m-%d %H:%M:%S', :start, '+' || (g * 30) || ' seconds'),
       strftime('%Y-%m-%d %H:%M:%S', :start, '+' || (g * 30) || ' seconds'),
       strftime('%Y-%m-%d %H:%M:%S', :start, '+' || (g * 30) || ' seconds'),
       strftime('%Y-%m-%d %H:%M:%S', :start, '+' || (g * 30) || ' seconds')
FROM seq
"""

ROUTE = "INSERT INTO application_departments (application_id, department) SELECT id, department FROM applications"


async def fill(db: Database, n: int) -> tuple[float, int]:
    """Insert ``n`` applications (and their routing) in two statements; seconds taken and the top id."""
    start = datetime(2025, 1, 1, tzinfo=UTC)
    params: dict[str, Any] = {
        "n": n,
        "item": json.dumps(ITEM, ensure_ascii=False),
        "delivery": json.dumps(DELIVERY),
        "heavy": HEAVY,
        "people": PEOPLE,
    }
    began = time.perf_counter()
    async with db.transaction() as session:
        if db.url.startswith("sqlite"):
            await session.execute(text(SQLITE_FILL), params | {"start": start.strftime("%Y-%m-%d %H:%M:%S")})
        else:
            await session.execute(text(PG_FILL), params | {"start": start})
        await session.execute(text(ROUTE))
        top = int((await session.execute(text("SELECT max(id) FROM applications"))).scalar_one())
    async with db.engine.connect() as conn:
        await conn.execute(text("ANALYZE"))
        await conn.commit()
    return time.perf_counter() - began, top


def summary(runs: list[float]) -> str:
    """median / p95 / max of some milliseconds."""
    runs = sorted(runs)
    p95 = runs[min(len(runs) - 1, round(0.95 * (len(runs) - 1)))]
    return f"{statistics.median(runs):>8.2f}{p95:>8.2f}{runs[-1]:>8.2f}"


async def page_times(
    client: httpx.AsyncClient, headers: dict[str, str], params: dict[str, Any], repeat: int
) -> tuple[list[float], list[float], int]:
    """Wall and CPU milliseconds of ``repeat`` GETs of one page (after a warm-up), and its item count.

    The CPU time is this process's (the service and its in-process client: HTTP, auth, SQL, JSON):
    on a busy machine it says what a page costs when the wall time also holds the wait for a core
    and for the database.
    """
    wall: list[float] = []
    cpu: list[float] = []
    items = 0
    for i in range(repeat + 1):
        began, began_cpu = time.perf_counter(), time.process_time()
        r = await client.get("/api/v1/applications", params=params, headers=headers)
        elapsed, used = (time.perf_counter() - began) * 1000, (time.process_time() - began_cpu) * 1000
        assert r.status_code == 200, r.text
        items = len(r.json()["items"])
        if i:
            wall.append(elapsed)
            cpu.append(used)
    return wall, cpu, items


async def offset_time(db: Database, depth: int) -> float:
    """Milliseconds of the same page fetched with OFFSET (what keyset cursors avoid)."""
    began = time.perf_counter()
    async with db.transaction() as session:
        await session.execute(
            text("SELECT * FROM applications ORDER BY id DESC LIMIT :limit OFFSET :depth"),
            {"limit": PAGE + 1, "depth": depth},
        )
    return (time.perf_counter() - began) * 1000


@asynccontextmanager
async def running_intake(url: str, keys: SigningKeys, storage: Path) -> AsyncIterator[httpx.AsyncClient]:
    """The intake app in-process on ``url`` with a real nats-server (the configured one, or our own)."""
    env = TestEnvironment()
    server = None
    nats_url = env.nats_url
    if nats_url is None:
        server = NatsServer(store_dir=storage / "nats").start()
        nats_url = server.url
    settings = IntakeSettings(
        database_url=url,
        nats_url=nats_url,
        nats_namespace="bench" + uuid.uuid4().hex[:8],
        storage_dir=str(storage / "files"),
        log_level="WARNING",
        log_json=False,
    )
    app = create_app(settings, verifier=keys.verifier())
    try:
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client,
        ):
            await wait_ready(client)
            yield client
            await app.state.kernel.bus.delete_streams()
    finally:
        if server is not None:
            server.stop()


async def flow(client: httpx.AsyncClient, keys: SigningKeys, count: int, concurrency: int) -> tuple[float, float]:
    """Applications created, given their material, submitted and accepted per second (through HTTP),
    and this process's CPU milliseconds per application."""
    admin = {"Authorization": f"Bearer {keys.staff('admin', 'admin')}"}
    clerk = {"Authorization": f"Bearer {keys.staff('clerk1', 'clerk')}"}
    item = {k: ITEM[k] for k in ("name", "kind", "department", "window", "legal_days", "committed_days", "trips")}
    r = await client.post(
        "/api/v1/catalog/items", json=item | {"code": "FLOW-1", "materials": ITEM["materials"]}, headers=admin
    )
    assert r.status_code == 201, r.text
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(count):
        queue.put_nowait(i)

    async def worker() -> None:
        while not queue.empty():
            i = queue.get_nowait()
            me = {"Authorization": f"Bearer {keys.citizen(f'F{i:017d}')}"}
            created = await client.post("/api/v1/applications", json={"item_code": "FLOW-1"}, headers=me)
            assert created.status_code == 201, created.text
            no = created.json()["application_no"]
            up = await client.put(f"/api/v1/applications/{no}/materials/M1", files={"file": ("a.pdf", PDF)}, headers=me)
            assert up.status_code == 201, up.text
            assert (await client.post(f"/api/v1/applications/{no}/submit", headers=me)).status_code == 200
            ok = await client.post(f"/api/v1/applications/{no}/acceptance", json={"decision": "accept"}, headers=clerk)
            assert ok.status_code == 200, ok.text

    began, began_cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    wall, cpu = time.perf_counter() - began, time.process_time() - began_cpu
    return count / wall, cpu / count * 1000


async def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print the figures."""
    env = TestEnvironment()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000 if env.pg_url else 200_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--flow", type=int, default=300, help="applications taken through create..accept")
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args(argv)

    import_models()
    scratch = Path(tempfile.mkdtemp(prefix="intake-bench-"))
    url = fresh_database_url("intake_bench", scratch)
    await asyncio.to_thread(upgrade, INI, url)
    db = Database(url, pool_size=2)
    backend = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    keys = SigningKeys()
    try:
        seconds, top = await fill(db, args.rows)
        print(f"intake list benchmark on {backend}: {args.rows:,} applications bulk-inserted in {seconds:.1f} s")
        clerk = {"Authorization": f"Bearer {keys.staff('clerk1', 'clerk')}"}
        approver = {"Authorization": f"Bearer {keys.staff('approver_market', 'approver', department='MARKET')}"}
        heavy = {"Authorization": f"Bearer {keys.citizen(HEAVY)}"}
        depths = sorted({0, 1_000, 10_000, 100_000, args.rows // 2, args.rows - 2 * PAGE})
        scenarios: list[tuple[str, dict[str, str], dict[str, Any]]] = [
            ("clerk, all", clerk, {}),
            ("clerk, status=completed", clerk, {"status": "completed"}),
            ("clerk, item_code=B-007", clerk, {"item_code": "B-007"}),
            ("approver, own department", approver, {}),
            (f"applicant with {args.rows // 100:,}", heavy, {}),
        ]
        async with running_intake(url, keys, scratch) as client:
            print(f"GET /api/v1/applications?limit={PAGE}, {args.repeat} runs per line (ms, through HTTP in-process)")
            print(f"{'who, filter':<30}{'ids skipped':>12}{'items':>7}{'median':>8}{'p95':>8}{'max':>8}{'cpu med':>9}")
            worst = 0.0
            for label, headers, params in scenarios:
                for depth in depths:
                    if depth >= top:
                        continue
                    query = dict(params, limit=PAGE)
                    if depth:
                        query["cursor"] = encode_cursor([top - depth + 1])
                    runs, cpu, items = await page_times(client, headers, query, args.repeat)
                    worst = max(worst, statistics.median(runs))
                    print(f"{label:<30}{depth:>12,}{items:>7}{summary(runs)}{statistics.median(cpu):>9.2f}")
            deepest = args.rows - 2 * PAGE
            print(
                f"worst median page: {worst:.2f} ms; the same deepest page with OFFSET {deepest:,} in SQL alone: "
                f"{await offset_time(db, deepest):.1f} ms"
            )
            if args.flow:
                rate, cpu_each = await flow(client, keys, args.flow, args.concurrency)
                print(
                    f"{args.flow} applications created, material uploaded, submitted and accepted through HTTP "
                    f"(in-process, {args.concurrency} at a time, beside {args.rows:,} rows): {rate:.0f} per second, "
                    f"{cpu_each:.1f} ms CPU each in this process (the service and its in-process client)"
                )
    finally:
        await db.dispose()
        await drop_database(url)


if __name__ == "__main__":
    asyncio.run(main())
