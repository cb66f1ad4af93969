"""The whole platform under load: full applications per second, create to `completed`.

Starts the gateway, four services and nats-server as processes (SQLite, or with ``--pg`` a fresh
PostgreSQL database per component on the machine's server; simulated couriers with no delay),
then citizens apply, a clerk accepts, an approver decides and couriers deliver, all through the
gateway. Prints completed applications per second, p50/p99 create-to-completed
latency, and each process's resident memory at the end.

Then the floor (tools/bench/floor.py): the same number of HTTP requests through the gateway and
of events published and consumed, counted in the processes' /metrics over the measured window,
run again with no business in them; the platform's CPU per application is printed as a multiple
of the floor's (``--no-floor`` skips it).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import statistics
import tempfile
import time
import uuid
from datetime import datetime
from json import loads as json_loads
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import uvloop

from owkernel.http import make_http_client
from owtest import drop_database, fresh_database_url, resident_id
from tools.bench import percentile
from tools.bench.floor import EVENTS_PER_TRANSACTION, Floor, Work, run_floor, scrape, work_of
from tools.seed import seed
from tools.stack import COMPONENTS, SIMULATORS, test_stack

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
ADMIN = "Bench-Admin-Pass-1!"
MAIL = {
    "method": "mail",
    "address": {
        "region_code": "370602001001",
        "detail": "芝罘区南大街1号",
        "recipient": "压测",
        "phone": "13800000000",
    },
}
# The stack's simulated outside parties (tools.stack's SIMULATORS): their CPU is printed apart,
# not billed to the platform (issue 22: a courier company is not ours to make faster).
OUTSIDE_PARTIES = SIMULATORS
# Where --pg without a URL finds the machine's PostgreSQL server (the tests' variable, then the default).
PG_SERVER = os.environ.get("ONEWINDOW_TEST_PG_URL") or "postgresql+asyncpg://postgres@127.0.0.1:5432"
# The stack's settings in this bench (and in its floor: the same gateway settings).
STACK_ENV = {
    "ONEWINDOW_ADMIN_PASSWORD": ADMIN,
    "ONEWINDOW_COURIER_DELAY_SECONDS": "0",
    "ONEWINDOW_RATE_LIMIT_PER_SECOND": "0",
    "GATEWAY_LOG_LEVEL": "WARNING",
    "INTAKE_LOG_LEVEL": "WARNING",
    "APPROVAL_LOG_LEVEL": "WARNING",
    "DELIVERY_LOG_LEVEL": "WARNING",
    "RATING_LOG_LEVEL": "WARNING",
}


def cpu_seconds(pid: int) -> float:
    """CPU time a process has used (user + system), from /proc."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return float("nan")


def rss_mb(pid: int) -> float:
    """Resident memory of a process in MB (from /proc)."""
    try:
        with open(f"/proc/{pid}/status", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


async def postgres_cpu(database_urls: dict[str, str]) -> dict[int, float]:
    """CPU seconds used so far by each PostgreSQL backend serving these databases (none on SQLite).

    The server runs on this machine and its work is the platform's: a statement costs the
    component its round trip and the backend its execution. A backend that closes before the
    window ends is missed; the pools keep theirs open, so that is rare.
    """
    urls = [url for url in database_urls.values() if url.startswith("postgresql")]
    if not urls:
        return {}
    import asyncpg

    names = [url.rsplit("/", 1)[1] for url in urls]
    server = urls[0].replace("postgresql+asyncpg://", "postgresql://").rsplit("/", 1)[0] + "/postgres"
    conn = await asyncpg.connect(server)
    try:
        rows = await conn.fetch("SELECT pid FROM pg_stat_activity WHERE datname = ANY($1::text[])", names)
    finally:
        await conn.close()
    return {row["pid"]: cpu_seconds(row["pid"]) for row in rows}


# What each component asks of its database (owkernel's counters), printed per application.
# Rows per page of the watcher's list calls (see watch()).
WATCH_PAGE = 50
DATABASE_WORK = ("onewindow_db_statements_total", "onewindow_db_commits_total")


async def login(client: httpx.AsyncClient, account: str, password: str) -> dict[str, str]:
    r = await client.post("/api/v1/auth/login", json={"account": account, "password": password})
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


class RequestFailedError(Exception):
    """A measured request that got no answer, or an error status."""


class Driver:
    """The client of the measured traffic: aiohttp itself, not httpx over it.

    The load generator shares the two cores with the platform; httpx's Request, URL and Headers
    objects on top of aiohttp took about a third of its CPU. Setup before the measured window
    keeps the platform's own client.
    """

    def __init__(self, base_url: str) -> None:
        self.session = aiohttp.ClientSession(
            base_url=base_url,
            connector=aiohttp.TCPConnector(limit=200),
            cookie_jar=aiohttp.DummyCookieJar(),
            timeout=aiohttp.ClientTimeout(total=60),
        )

    async def call(
        self,
        method: str,
        path: str,
        *,
        headers: dict[str, str],
        json: Any = None,
        params: dict[str, Any] | None = None,
        upload: tuple[str, str, bytes, str] | None = None,
    ) -> Any:
        """The answer's JSON (None when empty); RequestFailedError on no answer or a status of 400 and up.

        ``upload`` is one multipart file: (field, filename, content, content type).
        """
        data = None
        if upload is not None:
            field, filename, content, content_type = upload
            data = aiohttp.FormData()
            data.add_field(field, content, filename=filename, content_type=content_type)
        try:
            async with self.session.request(
                method, path, headers=headers, json=json, params=params, data=data
            ) as response:
                body = await response.read()
                if response.status >= 400:
                    raise RequestFailedError(f"{method} {path}: HTTP {response.status}")
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise RequestFailedError(f"{method} {path}: {exc!r}") from exc
        return json_loads(body) if body else None

    async def close(self) -> None:
        await self.session.close()


def pg_databases(server_url: str, data_dir: Path) -> dict[str, str]:
    """A fresh PostgreSQL database per component on ``server_url`` (as tools.scale makes them)."""
    os.environ["ONEWINDOW_TEST_PG_URL"] = server_url
    return {c.name: fresh_database_url(f"bench_{c.name}", data_dir) for c in COMPONENTS}


async def run(seconds: float, workers: int, rate: float | None, pg_server: str | None = None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        # Without --pg each component gets a SQLite file (the stack's default).
        databases = pg_databases(pg_server, Path(tmp)) if pg_server else {}
        stack = test_stack(Path(tmp), nats_url=None, database_urls=databases, extra_env=STACK_ENV)
        stack.start_all()
        try:
            stack.wait_ready(timeout=120)
            await asyncio.to_thread(seed, stack.gateway_url, ADMIN)
            return await load(stack, seconds, workers, rate)
        finally:
            stack.stop_all()
            for url in databases.values():
                await drop_database(url)


async def load(stack: Any, seconds: float, workers: int, rate: float | None) -> dict[str, Any]:
    # The platform's own client (httpx on the aiohttp transport): plain httpx spent a quarter of a
    # core here, taken from the processes under test on the same two cores.
    async with make_http_client(base_url=stack.gateway_url, timeout=60, max_keepalive=200) as c:
        admin = await login(c, "admin", ADMIN)
        dept = "BENCH" + uuid.uuid4().hex[:4].upper()
        code = "BENCH-" + uuid.uuid4().hex[:6].upper()
        (
            await c.post(
                "/api/v1/catalog/items",
                headers=admin,
                json={
                    "code": code,
                    "name": "压测事项",
                    "kind": "licensing",
                    "department": dept,
                    "window": "general",
                    "legal_days": 10,
                    "committed_days": 5,
                    "trips": 0,
                    "online": True,
                    "fee_fen": 0,
                    "materials": [{"code": "M1", "name": "申请表", "critical": True}],
                },
            )
        ).raise_for_status()
        for username, role, department in (("bench_clerk", "clerk", None), ("bench_approver", "approver", dept)):
            body: dict[str, Any] = {
                "username": username,
                "password": "Bench-Pass-123!",
                "name": username,
                "roles": [role],
            }
            if department:
                body["department"] = department
            await c.post("/api/v1/admin/staff", headers=admin, json=body)
        clerk = await login(c, "bench_clerk", "Bench-Pass-123!")
        approver = await login(c, "bench_approver", "Bench-Pass-123!")
        citizens = []
        for i in range(workers):
            number = resident_id()
            # A typed-in number may not apply (identity assurance): the bench clerk verifies each
            # citizen as at a window, and the citizen sets the password with the one-time code.
            r = await c.post(
                "/api/v1/auth/verifications", headers=clerk, json={"id_number": number, "name": f"压测{i}"}
            )
            r.raise_for_status()
            r = await c.post(
                "/api/v1/auth/activate",
                json={
                    "id_number": number,
                    "activation_code": r.json()["activation_code"],
                    "password": "Bench-Pass-123!",
                },
            )
            r.raise_for_status()
            citizens.append({"Authorization": f"Bearer {r.json()['access_token']}"})

        d = Driver(stack.gateway_url)
        started: dict[str, float] = {}
        started_wall: dict[str, float] = {}
        done: dict[str, float] = {}
        # When the platform says each one completed (its completed_at, the same machine's clock):
        # the poll below sees a completion up to a quarter second late.
        completed_wall: dict[str, float] = {}
        stop_at = time.monotonic() + seconds
        errors = 0

        async def apply_once(me: dict[str, str]) -> None:
            nonlocal errors
            t0, t0_wall = time.monotonic(), time.time()
            try:
                created = await d.call(
                    "POST", "/api/v1/applications", headers=me, json={"item_code": code, "delivery": MAIL}
                )
                no = created["application_no"]
                started[no] = t0
                started_wall[no] = t0_wall
                await d.call(
                    "PUT",
                    f"/api/v1/applications/{no}/materials/M1",
                    headers=me,
                    upload=("file", "M1.pdf", PDF, "application/pdf"),
                )
                await d.call("POST", f"/api/v1/applications/{no}/submit", headers=me)
                await d.call(
                    "POST",
                    f"/api/v1/applications/{no}/acceptance",
                    headers=clerk,
                    json={"decision": "accept", "deferred_materials": [], "reason": ""},
                )
            except RequestFailedError:
                errors += 1

        async def citizen(me: dict[str, str]) -> None:
            # Closed loop: the next application as soon as the last one is accepted.
            while time.monotonic() < stop_at:
                await apply_once(me)

        async def arrivals(per_second: float) -> None:
            # Open loop: applications start on a fixed schedule whatever the platform's state, so
            # latency is measured at an offered rate rather than at whatever the loop reaches.
            in_flight: set[asyncio.Task[None]] = set()
            t_next = time.monotonic()
            i = 0
            while t_next < stop_at:
                await asyncio.sleep(max(0.0, t_next - time.monotonic()))
                task = asyncio.create_task(apply_once(citizens[i % len(citizens)]))
                in_flight.add(task)
                task.add_done_callback(in_flight.discard)
                i += 1
                t_next += 1 / per_second
            await asyncio.gather(*in_flight)

        async def approve() -> None:
            nonlocal errors
            # A request refused or dropped under overload (an offered rate above what the platform
            # carries) is counted and tried again on the next round, as a person would.
            while time.monotonic() < stop_at + 60 and (len(done) < len(started) or time.monotonic() < stop_at):
                try:
                    page = await d.call(
                        "GET", "/api/v1/tasks", headers=approver, params={"status": "open", "limit": 200}
                    )
                except RequestFailedError:
                    errors += 1
                    await asyncio.sleep(0.05)
                    continue
                items = page.get("items", []) if page else []
                decisions = await asyncio.gather(
                    *(
                        d.call(
                            "POST",
                            f"/api/v1/tasks/{t['task_id']}/decision",
                            headers=approver,
                            json={"decision": "approve", "opinion": "同意"},
                        )
                        for t in items
                    ),
                    return_exceptions=True,
                )
                for outcome in decisions:
                    if isinstance(outcome, BaseException) and not isinstance(outcome, RequestFailedError):
                        raise outcome
                errors += sum(isinstance(outcome, RequestFailedError) for outcome in decisions)
                if not items:
                    await asyncio.sleep(0.05)

        async def watch() -> None:
            # List calls a quarter second apart (newest first) rather than a GET per application:
            # the bench must not be what loads the platform. Each round pages only as deep as the
            # oldest application still in flight (anything older is done already), 50 a page: a
            # 200-row page every round cost intake ~10 ms of CPU, ~1.3 ms per application.
            nonlocal errors
            while time.monotonic() < stop_at + 60 and (len(done) < len(started) or time.monotonic() < stop_at):
                oldest = min((started[no] for no in started if no not in done), default=None)
                cursor: str | None = None
                while True:
                    params: dict[str, Any] = {"status": "completed", "item_code": code, "limit": WATCH_PAGE}
                    if cursor:
                        params["cursor"] = cursor
                    try:
                        page = await d.call("GET", "/api/v1/applications", headers=clerk, params=params)
                    except RequestFailedError:
                        errors += 1
                        break
                    now = time.monotonic()
                    for row in page["items"]:
                        done.setdefault(row["application_no"], now)
                        if row.get("completed_at"):
                            completed_wall.setdefault(
                                row["application_no"], datetime.fromisoformat(row["completed_at"]).timestamp()
                            )
                    cursor = page.get("next_cursor")
                    last = page["items"][-1]["application_no"] if page["items"] else None
                    # Rows come newest first: once a page ends before the oldest one in flight,
                    # the pages after it hold nothing new.
                    if not cursor or last is None or oldest is None or started.get(last, oldest) < oldest:
                        break
                await asyncio.sleep(0.25)

        def process_cpu() -> dict[str, float]:
            cpu = {name: cpu_seconds(proc.pid) for name, proc in stack.processes.items()}
            if stack.nats is not None and stack.nats.process is not None:
                cpu["nats-server"] = cpu_seconds(stack.nats.process.pid)
            return cpu

        # The work the processes do, from the kernel's counters, over the same window as the CPU.
        urls = {component.name: stack.url(component.name) for component in COMPONENTS}
        before = await scrape(c, urls)
        work_before = work_of(before)
        # CPU from here on only: start-up, migrations and seeding are not the applications' cost.
        cpu_before = process_cpu()
        postgres_before = await postgres_cpu(stack.database_urls)
        client_before = time.process_time()
        t_start = time.monotonic()
        drivers = [arrivals(rate)] if rate else [citizen(me) for me in citizens]
        try:
            await asyncio.gather(*drivers, approve(), watch())
        finally:
            await d.close()
        elapsed = (max(done.values()) if done else time.monotonic()) - t_start
        polled = sorted((done[no] - started[no]) * 1000 for no in done if no in started)
        recorded = sorted((completed_wall[no] - started_wall[no]) * 1000 for no in completed_wall if no in started_wall)
        latencies = recorded or polled
        memory = {name: rss_mb(proc.pid) for name, proc in stack.processes.items()}
        if stack.nats is not None and stack.nats.process is not None:
            memory["nats-server"] = rss_mb(stack.nats.process.pid)
        cpu = {name: used - cpu_before[name] for name, used in process_cpu().items()}
        if postgres_before:
            backends = await postgres_cpu(stack.database_urls)
            cpu["postgres"] = sum(used - postgres_before.get(pid, 0.0) for pid, used in backends.items())
        client_cpu = time.process_time() - client_before
        window = time.monotonic() - t_start
        after = await scrape(c, urls)
        work_after = work_of(after)
        database = {
            name: tuple(after[name].get(m, 0.0) - before[name].get(m, 0.0) for m in DATABASE_WORK) for name in urls
        }
        work = Work(
            requests=round(work_after["requests"] - work_before["requests"]),
            published=round(work_after["published"] - work_before["published"]),
            consumed=round(work_after["consumed"] - work_before["consumed"]),
            seconds=window,
        )
        return {
            "started": len(started),
            "completed": len(done),
            "errors": errors,
            "seconds": elapsed,
            "per_s": len(done) / elapsed if elapsed else 0.0,
            "p50_ms": statistics.median(latencies) if latencies else float("nan"),
            "p99_ms": percentile(latencies, 99),
            "polled_p50_ms": percentile(polled, 50),
            "polled_p99_ms": percentile(polled, 99),
            "recorded": bool(recorded),
            "memory": memory,
            "cpu": cpu,
            "client_cpu": client_cpu,
            "work": work,
            "database": database,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=30.0, help="how long citizens keep applying")
    parser.add_argument("--workers", type=int, default=8, help="citizens applying at once")
    parser.add_argument(
        "--rate",
        type=float,
        default=None,
        help="start applications at this many per second (open loop) instead of --workers closed loops",
    )
    parser.add_argument(
        "--no-floor", action="store_true", help="skip the floor (the same traffic with no business in it)"
    )
    parser.add_argument(
        "--floor-events-per-transaction",
        type=int,
        default=EVENTS_PER_TRANSACTION,
        help="the floor commits its events this many to a transaction (default: as the platform's outboxes hold them)",
    )
    parser.add_argument(
        "--pg",
        nargs="?",
        const=PG_SERVER,
        default=None,
        metavar="SERVER_URL",
        help=f"run the components on PostgreSQL, a fresh database each on this server (default {PG_SERVER})",
    )
    args = parser.parse_args()
    # The load generator shares the two cores with the platform: on uvloop, as the components run
    # (uvicorn picks it), its loop costs less of them than asyncio's own.
    r = uvloop.run(run(args.seconds, args.workers, args.rate, args.pg))
    print(f"databases: {'PostgreSQL at ' + args.pg if args.pg else 'SQLite files'}")
    if args.rate:
        print(f"offered: {args.rate:g} applications/s (open loop)")
    else:
        print(f"offered: {args.workers} citizens, each applying again once accepted (closed loop, saturating)")
    print(
        f"platform: {r['completed']}/{r['started']} applications created→completed "
        f"({r['errors']} request errors) in {r['seconds']:.1f}s = {r['per_s']:.1f} applications/s; "
        f"create→completed p50 {r['p50_ms']:.0f} ms, p99 {r['p99_ms']:.0f} ms"
        + (
            f" (the platform's completed_at; as the quarter-second poll saw them: p50 "
            f"{r['polled_p50_ms']:.0f} ms, p99 {r['polled_p99_ms']:.0f} ms)"
            if r["recorded"]
            else " (as the quarter-second poll saw them)"
        )
    )
    print("resident memory: " + ", ".join(f"{k} {v:.0f} MB" for k, v in r["memory"].items()))
    print(
        "CPU seconds used under load: "
        + ", ".join(f"{k} {v:.1f}" for k, v in r["cpu"].items())
        + f"; the load generator itself {r['client_cpu']:.1f} (it shares the cores)"
    )
    if r["completed"]:
        per_app = {k: v / r["completed"] * 1000 for k, v in r["cpu"].items() if k not in OUTSIDE_PARTIES}
        outside = {k: v / r["completed"] * 1000 for k, v in r["cpu"].items() if k in OUTSIDE_PARTIES}
        print(
            f"CPU per application: {sum(per_app.values()):.0f} ms in all ("
            + ", ".join(f"{k} {v:.1f}" for k, v in per_app.items())
            + "); simulated outside parties apart: "
            + ", ".join(f"{k} {v:.1f}" for k, v in outside.items())
        )
        print(
            "database work per application (statements / commits): "
            + ", ".join(
                f"{k} {n / r['completed']:.1f} / {m / r['completed']:.1f}" for k, (n, m) in r["database"].items()
            )
        )
        if not args.no_floor:
            work = dataclasses.replace(r["work"], events_per_transaction=args.floor_events_per_transaction)
            report_floor(work, r["completed"], sum(per_app.values()))
            if args.pg:
                # The floor's events commit to SQLite files; the platform's (and postgres') to the server.
                print("(the floor runs on SQLite: on PostgreSQL the multiple sets the server's work against none)")


def report_floor(work: Work, completed: int, platform_ms: float) -> None:
    """Run the floor on the platform's counts and print it beside the platform's figure."""
    print(f"work counted in the platform's /metrics: {work.per(completed)}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        floor: Floor = run_floor(work, Path(tmp), STACK_ENV, cpu_seconds)
    per_app = {k: v / completed * 1000 for k, v in floor.cpu.items()}
    floor_ms = sum(per_app.values())
    print(
        f"floor: the same {work.requests} requests through the gateway to a constant route and "
        f"{work.published} events published ({work.events_per_transaction} per transaction) and "
        f"{work.consumed} consumed by handlers that do nothing, paced over {work.seconds:.1f}s "
        f"({floor.errors} request errors, done in {floor.seconds:.1f}s): {floor_ms:.1f} ms of CPU per application ("
        + ", ".join(f"{k} {v:.1f}" for k, v in per_app.items())
        + ")"
    )
    print(
        f"CPU per application: platform {platform_ms:.1f} ms, floor {floor_ms:.1f} ms; "
        f"the platform costs {platform_ms / floor_ms:.2f}x the floor"
    )


if __name__ == "__main__":
    main()
