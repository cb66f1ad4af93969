"""What the gateway costs: one read endpoint, straight to the service and through the gateway.

    PYTHONPATH=.:libs .venv/bin/python -m tools.bench.gateway [--seconds 10] [--connections 16] [--upstream both]

Starts real processes on free loopback ports: a nats-server, a small service on the kernel with
one JSON read endpoint (``GET /api/v1/catalog/items/{code}``: a row read from its database with
``--upstream db``, a constant with ``--upstream static``; both runs by default; its log at the
services' default level), and the gateway (uvicorn, its own migrated database, rate limit off).
A load generator in a separate process keeps ``--connections`` keep-alive connections busy for
a fixed time (a minimal HTTP/1.1 client on uvloop, so that the generator takes as little of the
machine as it can), or wrk where it is installed, and measures every response; every request carries a real
access token, which the gateway verifies. Direct and proxied runs alternate ``--rounds`` times
and the best round of each is reported (other load on a shared machine only slows a round); the
report gives requests/s, p50 and p99 of both, the ratio, the added p50, and the CPU time each
server process spent per request (a figure that other load distorts less).

``run_bench(...)`` returns the same figures for tools/bench/__main__.py.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
from fastapi import APIRouter, FastAPI
from pydantic_settings import SettingsConfigDict
from sqlalchemy import Column, Integer, String, Table, select

from owkernel.app import KernelDep, create_service_app
from owkernel.db import new_metadata
from owkernel.errors import NotFound
from owkernel.jobs import Startup
from owkernel.settings import ServiceSettings
from owkernel.tables import kernel_tables
from owtest import NatsServer, free_port, subprocess_env, wait_for_port

ROOT = Path(__file__).resolve().parents[2]
ITEM_CODE = "BENCH-ITEM-1"
ITEM = {
    "code": ITEM_CODE,
    "name": "食品经营许可证核发",
    "kind": "licensing",
    "department": "MARKET",
    "window": "commercial",
    "legal_days": 20,
    "committed_days": 7,
    "trips": 1,
    "online": True,
    "fee_fen": 0,
    "materials": [
        {"code": "M1", "name": "申请书", "critical": True},
        {"code": "M2", "name": "营业执照复印件", "critical": True},
        {"code": "M3", "name": "食品安全管理制度", "critical": False},
    ],
    "version": 1,
}


# --- the upstream service ------------------------------------------------------------------------


class BenchUpstreamSettings(ServiceSettings):
    """The benchmark's upstream (env prefix ``BENCH_UPSTREAM_``)."""

    model_config = SettingsConfigDict(env_prefix="BENCH_UPSTREAM_", extra="ignore")

    service_name: str = "bench-upstream"
    database_url: str = "sqlite+aiosqlite:///./.data/bench-upstream.db"
    static: bool = False


metadata = new_metadata()
upstream_tables = kernel_tables(metadata)
items = Table(
    "items",
    metadata,
    Column("code", String(40), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("body", String(4000), nullable=False),
)


def create_upstream() -> FastAPI:
    """The upstream app (``uvicorn --factory tools.bench.gateway:create_upstream``)."""
    settings = BenchUpstreamSettings()
    router = APIRouter()

    if settings.static:

        @router.get("/api/v1/catalog/items/{code}")
        async def static_item(code: str) -> dict[str, Any]:
            if code != ITEM_CODE:
                raise NotFound("There is no such item.")
            return ITEM

    else:

        @router.get("/api/v1/catalog/items/{code}")
        async def item(code: str, kernel: KernelDep) -> dict[str, Any]:
            async with kernel.db.engine.connect() as conn:
                row = (await conn.execute(select(items.c.body).where(items.c.code == code))).first()
            if row is None:
                raise NotFound("There is no such item.")
            body: dict[str, Any] = json.loads(row.body)
            return body

    async def seed(kernel: Any) -> None:
        async with kernel.db.engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
            if (await conn.execute(select(items.c.code).where(items.c.code == ITEM_CODE))).first() is None:
                await conn.execute(items.insert().values(code=ITEM_CODE, version=1, body=json.dumps(ITEM)))

    return create_service_app(
        settings=settings,
        tables=upstream_tables,
        routers=[router],
        title="bench upstream",
        verifier=None,
        startup=[Startup("seed", seed)],
    )


# --- the load generator (runs in its own process) --------------------------------------------------


class _Connection(asyncio.Protocol):
    """One keep-alive connection sending the same request again as soon as the answer is in."""

    def __init__(self, request: bytes, latencies: list[float], done: asyncio.Future[None]) -> None:
        self.request = request
        self.latencies = latencies
        self.done = done
        self.buffer = b""
        self.sent_at = 0.0
        self.stop_at = 0.0
        self.errors = 0
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is a Transport in all but name

    def fire(self) -> None:
        assert self.transport is not None
        self.sent_at = time.perf_counter()
        self.transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end].lower()
            at = head.find(b"content-length:")
            if at < 0:
                raise RuntimeError("the load generator needs Content-Length responses")
            line_end = head.find(b"\r\n", at)
            length = int(head[at + 15 : line_end if line_end > 0 else None])
            if len(self.buffer) < end + 4 + length:
                return
            if not head.startswith(b"http/1.1 200"):
                self.errors += 1
            self.buffer = self.buffer[end + 4 + length :]
            now = time.perf_counter()
            self.latencies.append(now - self.sent_at)
            if now < self.stop_at:
                self.fire()
            elif not self.done.done():
                self.done.set_result(None)
            return

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_exception(ConnectionError(f"connection lost: {exc!r}"))


async def _load(url: str, *, seconds: float, connections: int, token: str | None, warmup: float) -> dict[str, Any]:
    parsed = httpx.URL(url)
    host, port = parsed.host, parsed.port or 80
    lines = [f"GET {parsed.raw_path.decode()} HTTP/1.1", f"Host: {host}:{port}", "Accept: application/json"]
    if token:
        lines.append(f"Authorization: Bearer {token}")
    request = ("\r\n".join(lines) + "\r\n\r\n").encode()
    loop = asyncio.get_running_loop()
    latencies: list[float] = []
    conns: list[_Connection] = []
    for _ in range(connections):
        _, conn = await loop.create_connection(
            lambda: _Connection(request, latencies, loop.create_future()), host, port
        )
        conns.append(conn)

    async def run(duration: float) -> float:
        started = time.perf_counter()
        for conn in conns:
            conn.done = loop.create_future()
            conn.stop_at = started + duration
            conn.fire()
        await asyncio.gather(*(c.done for c in conns))
        return time.perf_counter() - started

    await run(warmup)
    latencies.clear()
    for conn in conns:
        conn.errors = 0
    elapsed = await run(seconds)
    for conn in conns:
        assert conn.transport is not None
        conn.transport.close()
    latencies.sort()
    count = len(latencies)
    return {
        "requests": count,
        "errors": sum(c.errors for c in conns),
        "rps": count / elapsed,
        "p50_ms": latencies[count // 2] * 1000,
        "p99_ms": latencies[min(count - 1, int(count * 0.99))] * 1000,
    }


def _load_main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--load", required=True)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--token")
    args = parser.parse_args(argv)
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # pragma: no cover - uvicorn[standard] ships it
        pass
    result = asyncio.run(
        _load(args.load, seconds=args.seconds, connections=args.connections, token=args.token, warmup=args.warmup)
    )
    print(json.dumps(result))


# --- orchestration -------------------------------------------------------------------------------


@dataclass
class Figures:
    """One target's load result."""

    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int


@dataclass
class BenchResult:
    """Direct vs proxied, and what each server process spent per request."""

    direct: Figures
    proxied: Figures
    ratio: float
    added_p50_ms: float
    gateway_cpu_us_per_request: float | None
    upstream_cpu_us_per_request: float | None
    seconds: float
    connections: int
    rounds: int
    upstream: str
    loader: str
    single_direct_p50_ms: float
    single_proxied_p50_ms: float
    load_average: tuple[float, float, float]
    niceness: int
    round_ratios: list[float]
    rounds_detail: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """Plain data (JSON)."""
        return asdict(self)

    @staticmethod
    def _line(f: Figures) -> str:
        return f"{f.rps:8.0f} req/s  p50 {f.p50_ms:6.2f} ms  p99 {f.p99_ms:6.2f} ms  ({f.errors} errors)"

    def report(self) -> str:
        """The human-readable summary."""
        gw = f"{self.gateway_cpu_us_per_request:.0f}" if self.gateway_cpu_us_per_request else "n/a"
        up = f"{self.upstream_cpu_us_per_request:.0f}" if self.upstream_cpu_us_per_request else "n/a"
        single_added = self.single_proxied_p50_ms - self.single_direct_p50_ms
        return "\n".join(
            [
                f"gateway bench: GET /api/v1/catalog/items/{{code}} ({self.upstream}), {self.connections} connections,"
                f" {self.rounds} x {self.seconds:.0f} s per target, load from {self.loader}, {os.cpu_count()} CPUs",
                f"  direct   {self._line(self.direct)}",
                f"  proxied  {self._line(self.proxied)}",
                f"  ratio    {self.ratio:.2f}   added p50 {self.added_p50_ms:+.2f} ms"
                f"   (ratio of each back-to-back round: {', '.join(f'{r:.2f}' for r in self.round_ratios)})",
                f"  one connection: p50 direct {self.single_direct_p50_ms:.2f} ms, proxied"
                f" {self.single_proxied_p50_ms:.2f} ms, added {single_added:+.2f} ms",
                f"  CPU per request: gateway {gw} us, upstream {up} us"
                f"   (load average before: {' '.join(f'{x:.1f}' for x in self.load_average)}"
                + (f", measured processes at nice {self.niceness})" if self.niceness else ")"),
            ]
        )


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process (Linux /proc), or None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = int(fields[11]) + int(fields[12])
        return ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


# On a shared machine, --priority runs the measured processes ahead of everyone else's (root only).
_NICE = {"value": 0}


def _niceness() -> None:
    if _NICE["value"]:
        os.nice(_NICE["value"])


def _spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    handle = open(log, "ab")  # noqa: SIM115 - owned by the process
    return subprocess.Popen(args, env=env, stdout=handle, stderr=subprocess.STDOUT, cwd=ROOT, preexec_fn=_niceness)


def _run_load(url: str, *, seconds: float, connections: int, token: str | None) -> Figures:
    cmd = [sys.executable, "-m", "tools.bench.gateway", "--load", url, "--seconds", str(seconds)]
    cmd += ["--connections", str(connections)]
    if token:
        cmd += ["--token", token]
    out = subprocess.run(
        cmd, env=subprocess_env(ROOT), cwd=ROOT, capture_output=True, timeout=seconds + 60, preexec_fn=_niceness
    )
    if out.returncode != 0:
        raise RuntimeError(f"the load generator failed: {out.stderr.decode()[-2000:]}")
    return Figures(**json.loads(out.stdout.decode().strip().splitlines()[-1]))


def _duration_ms(text: str) -> float:
    """wrk's latency figures: ``812.00us``, ``1.23ms``, ``2.00s``."""
    for unit, factor in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * factor
    return float(text)


def _run_wrk(url: str, *, seconds: float, connections: int, token: str | None) -> Figures:
    """The same measurement with wrk (C, one thread), where it is installed."""
    wrk = shutil.which("wrk")
    assert wrk is not None
    cmd = [wrk, "-t1", f"-c{connections}", "--latency"]
    if token:
        cmd += ["-H", f"Authorization: Bearer {token}"]
    subprocess.run([*cmd, "-d1s", url], capture_output=True, check=True, timeout=60, preexec_fn=_niceness)  # warm-up
    out = subprocess.run(
        [*cmd, f"-d{int(seconds)}s", url], capture_output=True, check=True, timeout=seconds + 60, preexec_fn=_niceness
    )
    text = out.stdout.decode()
    figures: dict[str, float] = {"errors": 0}
    for line in text.splitlines():
        parts = line.split()
        if line.startswith("Requests/sec:"):
            figures["rps"] = float(parts[1])
        elif parts[:1] == ["50.000%"] or parts[:1] == ["50%"]:
            figures["p50_ms"] = _duration_ms(parts[1])
        elif parts[:1] == ["99.000%"] or parts[:1] == ["99%"]:
            figures["p99_ms"] = _duration_ms(parts[1])
        elif "requests in" in line:
            figures["requests"] = int(parts[0])
        elif line.strip().startswith("Non-2xx or 3xx responses:"):
            figures["errors"] = int(parts[-1])
    return Figures(
        rps=figures["rps"],
        p50_ms=figures["p50_ms"],
        p99_ms=figures["p99_ms"],
        requests=int(figures["requests"]),
        errors=int(figures["errors"]),
    )


def _wait_ready(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/readyz", timeout=2.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{url} is not ready")


def _token(gateway: str) -> str:
    """Register a citizen through the gateway and log in: requests carry a real token."""
    from stdnum.cn import ric

    body = "370602" + time.strftime("%Y%m%d", time.gmtime(time.time() - 30 * 365 * 86400)) + "123"
    number = body + ric.calc_check_digit(body + "0")
    password = "Bench-Pass-123!"
    with httpx.Client(base_url=gateway, timeout=30) as client:
        client.post(
            "/api/v1/auth/register",
            json={"id_number": number, "name": "压测居民", "password": password, "phone": "13800000000"},
        )
        r = client.post("/api/v1/auth/login", json={"account": number, "password": password})
        r.raise_for_status()
        return str(r.json()["access_token"])


def run_bench(
    *,
    seconds: float = 10.0,
    connections: int = 16,
    rounds: int = 2,
    static: bool = False,
    loader: str = "python",
    priority: bool = False,
    quiet: bool = False,
) -> BenchResult:
    """Start everything, measure direct and proxied ``rounds`` times each (alternating), stop everything."""
    _NICE["value"] = -10 if priority and hasattr(os, "geteuid") and os.geteuid() == 0 else 0
    work = Path(tempfile.mkdtemp(prefix="ow-gateway-bench-"))
    procs: list[subprocess.Popen[bytes]] = []
    nats = NatsServer(store_dir=work / "nats").start()
    try:
        env = subprocess_env(ROOT)
        upstream_port, gateway_port = free_port(), free_port()
        upstream_url = f"http://127.0.0.1:{upstream_port}"
        gateway_url = f"http://127.0.0.1:{gateway_port}"
        up_env = env | {
            "BENCH_UPSTREAM_DATABASE_URL": f"sqlite+aiosqlite:///{work / 'upstream.db'}",
            "BENCH_UPSTREAM_NATS_URL": nats.url,
            "BENCH_UPSTREAM_PORT": str(upstream_port),
            "BENCH_UPSTREAM_STATIC": "true" if static else "false",
        }
        gw_db = f"sqlite+aiosqlite:///{work / 'gateway.db'}"
        gw_env = env | {
            "GATEWAY_DATABASE_URL": gw_db,
            "GATEWAY_NATS_URL": nats.url,
            "GATEWAY_PORT": str(gateway_port),
            "GATEWAY_INTAKE_URL": upstream_url,
            "GATEWAY_JWKS_URL": f"{gateway_url}/.well-known/jwks.json",
            "ONEWINDOW_RATE_LIMIT_PER_SECOND": "0",
            "ONEWINDOW_ADMIN_PASSWORD": "bench-admin-password",
        }
        subprocess.run(
            [sys.executable, "-m", "alembic", "-c", str(ROOT / "gateway" / "alembic.ini"), "upgrade", "head"],
            env=gw_env,
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        uvicorn = [sys.executable, "-m", "uvicorn", "--factory", "--host", "127.0.0.1", "--no-access-log"]
        upstream = _spawn(
            [*uvicorn, "--port", str(upstream_port), "tools.bench.gateway:create_upstream"],
            up_env,
            work / "upstream.log",
        )
        procs.append(upstream)
        gateway = _spawn(
            [*uvicorn, "--port", str(gateway_port), "gateway.app:create_app"], gw_env, work / "gateway.log"
        )
        procs.append(gateway)
        wait_for_port(upstream_port, timeout=30)
        wait_for_port(gateway_port, timeout=30)
        _wait_ready(upstream_url)
        _wait_ready(gateway_url)
        token = _token(gateway_url)
        load_average = os.getloadavg()
        path = f"/api/v1/catalog/items/{ITEM_CODE}"
        direct_runs: list[Figures] = []
        proxied_runs: list[Figures] = []
        gateway_cpu: list[float] = []
        upstream_cpu: list[float] = []
        detail: list[dict[str, Any]] = []
        load = _run_wrk if loader == "wrk" else _run_load
        for _ in range(rounds):
            direct_runs.append(load(upstream_url + path, seconds=seconds, connections=connections, token=token))
            up0, gw0 = _cpu_seconds(upstream.pid), _cpu_seconds(gateway.pid)
            proxied = load(gateway_url + path, seconds=seconds, connections=connections, token=token)
            up1, gw1 = _cpu_seconds(upstream.pid), _cpu_seconds(gateway.pid)
            proxied_runs.append(proxied)
            # CPU over warm-up + run, divided by the requests of both (warm-up runs at the same pace).
            served = proxied.requests * (seconds + 1.0) / seconds
            if None not in (up0, up1, gw0, gw1):
                gateway_cpu.append((gw1 - gw0) / served * 1e6)  # type: ignore[operator]
                upstream_cpu.append((up1 - up0) / served * 1e6)  # type: ignore[operator]
            detail.append({"direct": asdict(direct_runs[-1]), "proxied": asdict(proxied)})
            if not quiet:
                print(
                    f"  round: direct {direct_runs[-1].rps:.0f} req/s, proxied {proxied.rps:.0f} req/s",
                    file=sys.stderr,
                    flush=True,
                )

        # Unloaded latency: what one hop through the gateway adds when nothing queues.
        single_direct = load(upstream_url + path, seconds=3, connections=1, token=token)
        single_proxied = load(gateway_url + path, seconds=3, connections=1, token=token)

        def best(runs: list[Figures]) -> Figures:
            # The best round of each: other load on a shared machine only ever makes a round slower.
            return max(runs, key=lambda f: f.rps)

        direct, proxied = best(direct_runs), best(proxied_runs)
        return BenchResult(
            direct=direct,
            proxied=proxied,
            ratio=proxied.rps / direct.rps,
            added_p50_ms=proxied.p50_ms - direct.p50_ms,
            gateway_cpu_us_per_request=statistics.median(gateway_cpu) if gateway_cpu else None,
            upstream_cpu_us_per_request=statistics.median(upstream_cpu) if upstream_cpu else None,
            seconds=seconds,
            connections=connections,
            rounds=rounds,
            upstream="constant JSON" if static else "one row read from its database",
            loader=loader,
            single_direct_p50_ms=single_direct.p50_ms,
            single_proxied_p50_ms=single_proxied.p50_ms,
            load_average=load_average,
            niceness=_NICE["value"],
            round_ratios=[p.rps / d.rps for d, p in zip(direct_runs, proxied_runs, strict=True)],
            rounds_detail=detail,
        )
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        nats.stop()
        shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> None:
    """Command line: ``python -m tools.bench.gateway``."""
    argv = sys.argv[1:] if argv is None else argv
    if "--load" in argv:
        _load_main(argv)
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each measured run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=2, help="direct/proxied pairs (the best of each is reported)")
    parser.add_argument(
        "--upstream",
        choices=["db", "static", "both"],
        default="both",
        help="the endpoint reads a row from the service's database (db), answers a constant (static), or both runs",
    )
    parser.add_argument(
        "--loader",
        choices=["auto", "python", "wrk"],
        default="auto",
        help="load generator: wrk where installed (auto), else the built-in one",
    )
    parser.add_argument(
        "--priority",
        action="store_true",
        help="run the measured processes at nice -10 (root): figures closer to an idle machine on a shared one",
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    loader = args.loader if args.loader != "auto" else ("wrk" if shutil.which("wrk") else "python")
    variants = {"db": [False], "static": [True], "both": [False, True]}[args.upstream]
    results = [
        run_bench(seconds=args.seconds, connections=args.connections, rounds=args.rounds, static=static, loader=loader)
        for static in variants
    ]
    if args.json:
        print(json.dumps([r.as_dict() for r in results], indent=2))
    else:
        print("\n".join(r.report() for r in results))


if __name__ == "__main__":
    main()
