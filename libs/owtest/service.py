"""A service app under test: its settings, the app running in-process with an HTTP client on it,
and the waits tests poll with (a deadline each, never a guess of how long something takes)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from pydantic_settings import BaseSettings

from owkernel.clock import Clock
from owkernel.contracts import EventData, make_envelope
from owkernel.handlers import ConsumerGroup
from owkernel.migrations import upgrade
from owtest.statements import Statements, counted_statements
from owtest.tokens import Headers, SigningKeys


@dataclass
class RunningService:
    """A service app running in-process (lifespan started) with a client on it."""

    app: Any
    client: httpx.AsyncClient
    settings: Any

    @property
    def kernel(self) -> Any:
        """The app's running kernel."""
        return self.app.state.kernel


@dataclass
class ServiceHarness:
    """What every service's test harness starts from: the running service and the keys its
    tokens are signed with. Each service's harness adds only its own people and helpers."""

    svc: RunningService
    keys: SigningKeys

    @property
    def client(self) -> httpx.AsyncClient:
        """HTTP into the app (ASGI)."""
        return self.svc.client

    @property
    def kernel(self) -> Any:
        """The app's running kernel."""
        return self.svc.kernel

    @property
    def headers(self) -> Headers:
        """Authorization headers of anyone, signed with the service's keys."""
        return Headers(self.keys)

    def statements(self) -> contextlib.AbstractContextManager[Statements]:
        """Count the statements the service sends from this task (see ``counted_statements``)."""
        return counted_statements(self.kernel.db.engine.sync_engine)

    async def handle_counted(self, group: ConsumerGroup, data: EventData) -> list[str]:
        """Apply one event as the service's consumer would (its handler, in a transaction of its
        own); the statements that sent."""
        envelope = make_envelope(data, source="test")
        with self.statements() as counted:
            async with self.kernel.db.transaction() as session:
                await group.handlers[envelope.type](session, data, envelope)
        return counted.sql


def service_settings(
    settings_cls: type[BaseSettings], *, database_url: str, nats_url: str, namespace: str, **overrides: Any
) -> Any:
    """Settings for a service under test: its own database, a test namespace on NATS, fast retries."""
    values: dict[str, Any] = {
        "database_url": database_url,
        "nats_url": nats_url,
        "nats_namespace": namespace,
        "outbox_poll_seconds": 0.2,
        "consumer_backoff_seconds": 0.1,
        "consumer_max_deliveries": 4,
        "log_json": False,
        "log_level": "WARNING",
    }
    values.update(overrides)
    return settings_cls(**values)


class ServiceRunner:
    """Start a service app in-process for API tests: migrate a fresh database, run the lifespan,
    give an httpx client over ASGI. The database and NATS are real; ``clock`` (a FakeClock) is
    handed to ``create_app`` when given."""

    def __init__(
        self, *, create_app: Any, settings: Any, ini_path: Path, keys: SigningKeys, clock: Clock | None = None
    ) -> None:
        self.create_app = create_app
        self.settings = settings
        self.ini_path = ini_path
        self.keys = keys
        self.clock = clock
        self._stack = contextlib.AsyncExitStack()

    async def __aenter__(self) -> RunningService:
        await asyncio.to_thread(upgrade, self.ini_path, self.settings.database_url)
        extra: dict[str, Any] = {} if self.clock is None else {"clock": self.clock}
        app = self.create_app(self.settings, verifier=self.keys.verifier(), **extra)
        await self._stack.enter_async_context(app.router.lifespan_context(app))
        client = await self._stack.enter_async_context(
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")
        )
        await wait_ready(client)
        return RunningService(app=app, client=client, settings=self.settings)

    async def __aexit__(self, *exc: object) -> None:
        await self._stack.aclose()


@contextlib.asynccontextmanager
async def serving(app: Any, port: int) -> AsyncIterator[None]:
    """Serve ``app`` with uvicorn on 127.0.0.1:port inside this event loop (lifespan on), for
    what must be reached over real HTTP: a gateway, a service a simulator calls back, a simulator."""
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("server stopped while starting")
        await asyncio.sleep(0.02)
    try:
        yield
    finally:
        server.should_exit = True
        await task


async def wait_ready(client: httpx.AsyncClient, timeout: float = 15.0) -> None:
    """Wait until ``/readyz`` says the database and NATS are reachable."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = await client.get("/readyz")
        if last.status_code == 200:
            return
        await asyncio.sleep(0.05)
    raise TimeoutError(f"service not ready: {last.text if last is not None else 'no answer'}")


async def eventually(check: Callable[[], Awaitable[Any]], *, timeout: float = 10.0, interval: float = 0.05) -> Any:
    """Poll an async ``check`` until it returns something truthy; fail after ``timeout``. (Any:
    checks return an optional value and the caller knows it is there once this returns.)"""
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s (last: {result!r})")
        await asyncio.sleep(interval)
