"""A database that goes away for a while: readiness says so, requests get a 503 problem, then all recovers.

On PostgreSQL the service reaches its database through a real TCP hop that the test cuts and
restores (live connections reset, new ones refused), as a network partition or a database
restart would. SQLite has no server to lose: its folder disappears and the pooled connection is
dropped, as when a volume is unmounted under a running process; then the folder comes back.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from owkernel.app import Kernel
from owtest import ServiceRunner, SigningKeys, TestEnvironment, bearer, free_port, fresh_database_url
from services.intake.app import create_app
from services.intake.tests.harness import INI, intake_settings


class TcpProxy:
    """Forwards 127.0.0.1:<port> to a target; ``cut`` refuses new connections and resets live ones."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)

    async def _accept(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        except OSError:
            client_writer.close()
            return
        self._writers.update((client_writer, upstream_writer))

        async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError):
                while data := await reader.read(65536):
                    writer.write(data)
                    await writer.drain()
            writer.close()

        await asyncio.gather(pipe(client_reader, upstream_writer), pipe(upstream_reader, client_writer))
        self._writers.difference_update((client_writer, upstream_writer))

    async def cut(self) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()
        for writer in list(self._writers):
            transport = writer.transport
            if isinstance(transport, asyncio.Transport):
                transport.abort()  # a reset, not a polite close: the peer sees the line drop
        self._writers.clear()
        self._server = None

    async def restore(self) -> None:
        await self.start()

    async def stop(self) -> None:
        if self._server is not None:
            await self.cut()


class Outage:
    """Takes the service's database away and brings it back, the way its backend allows."""

    def __init__(self, tmp_path: Path, proxy: TcpProxy | None) -> None:
        self.tmp_path = tmp_path
        self.proxy = proxy

    async def begin(self, kernel: Kernel) -> None:
        if self.proxy is not None:
            await self.proxy.cut()
            return
        (self.tmp_path / "db").rename(self.tmp_path / "db-away")
        await kernel.db.engine.dispose()

    async def end(self) -> None:
        if self.proxy is not None:
            await self.proxy.restore()
            return
        (self.tmp_path / "db-away").rename(self.tmp_path / "db")


@pytest.fixture
async def outage_setup(tmp_path: Path) -> AsyncIterator[tuple[str, Outage]]:
    env = TestEnvironment()
    if env.pg_url:
        real = make_url(fresh_database_url("outage", tmp_path))
        proxy = TcpProxy(real.host or "127.0.0.1", real.port or 5432)
        await proxy.start()
        url = real.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        try:
            yield url, Outage(tmp_path, proxy)
        finally:
            await proxy.stop()
    else:
        url = fresh_database_url("outage", tmp_path / "db")
        yield url, Outage(tmp_path, None)


async def _until_ready(client: httpx.AsyncClient, seconds: float) -> httpx.Response:
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        r = await client.get("/readyz")
        if r.status_code == 200 or asyncio.get_running_loop().time() > deadline:
            return r
        await asyncio.sleep(0.2)


async def test_database_briefly_unreachable(
    outage_setup: tuple[str, Outage], nats_url: str, namespace: str, signing_keys: SigningKeys, tmp_path: Path
) -> None:
    database_url, outage = outage_setup
    settings = intake_settings(database_url, nats_url, namespace, tmp_path)
    citizen = bearer(signing_keys.citizen("370602199001011234", "张三"))
    async with ServiceRunner(create_app=create_app, settings=settings, ini_path=INI, keys=signing_keys) as svc:
        client = svc.client
        assert (await client.get("/readyz")).status_code == 200
        before = await client.get("/api/v1/applications", headers=citizen)
        assert before.status_code == 200, before.text

        await outage.begin(svc.kernel)
        ready = await client.get("/readyz")
        assert ready.status_code == 503
        assert ready.headers["content-type"].startswith("application/problem+json")
        assert ready.json()["checks"]["database"].startswith("unavailable")
        assert ready.json()["checks"]["nats"] == "ok"

        for request in (
            client.get("/api/v1/applications", headers=citizen),
            client.post("/api/v1/applications", json={"item_code": "T-001"}, headers=citizen),
        ):
            r = await request
            assert r.status_code == 503, r.text
            assert r.headers["content-type"].startswith("application/problem+json")
            assert r.headers["retry-after"] == "5"
            body = r.json()
            assert body["status"] == 503 and "database" in body["detail"]
            assert body["request_id"] == r.headers["x-request-id"]

        await outage.end()
        recovered = await _until_ready(client, 15)
        assert recovered.status_code == 200, recovered.text
        after = await client.get("/api/v1/applications", headers=citizen)
        assert after.status_code == 200, after.text
        assert after.json() == before.json()
