"""The service app factory: one way for every component to start, serve and stop.

A service hands over its settings, its state, its clock, routers, kernel tables, event handlers,
periodic jobs and start-up steps; the factory wires the database, the bus, the outbox relay, the
consumers, token verification, problem+json errors, request ids in logs, ``/healthz``,
``/readyz``, ``/metrics`` and, for a service with consumers, ``/ops/dead-letters``.
The parts live in their own modules: ``kernel`` (the Kernel and its dependencies), ``jobs``,
``middleware``, ``ops``; this module only assembles them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import structlog
from fastapi import APIRouter, FastAPI

from owkernel import tracing
from owkernel.auth import TokenVerifier
from owkernel.bus import Bus
from owkernel.clock import SYSTEM_CLOCK, Clock
from owkernel.consumer import ConsumerGroup, ConsumerOptions, ConsumerRunner
from owkernel.db import Database
from owkernel.errors import install_problem_handlers
from owkernel.http import make_http_client
from owkernel.jobs import PeriodicJob, Startup, run_startup, start_jobs
from owkernel.kernel import AnyKernel, Kernel, KernelDep, SessionDep, get_kernel, get_session, kernel_of
from owkernel.logs import configure_logging
from owkernel.middleware import RequestContextMiddleware
from owkernel.openapi import install as install_openapi
from owkernel.ops import health_router, ops_router
from owkernel.outbox import OutboxRelay
from owkernel.runtime import tune_gc
from owkernel.settings import PlatformSettings, ServiceSettings
from owkernel.tables import KernelTables

__all__ = [
    "Kernel",
    "KernelDep",
    "SessionDep",
    "create_service_app",
    "get_kernel",
    "get_session",
    "kernel_of",
]

log = structlog.get_logger("owkernel.app")


def create_service_app(
    *,
    settings: ServiceSettings,
    tables: KernelTables,
    routers: Sequence[APIRouter],
    title: str,
    consumers: ConsumerGroup | None = None,
    state: Any = None,
    clock: Clock | None = None,
    jobs: Sequence[PeriodicJob] = (),
    startup: Sequence[Startup] = (),
    version: str = "1.0.0",
    description: str = "",
    verifier: TokenVerifier | None = None,
) -> FastAPI:
    """Build a service's FastAPI app on the kernel."""
    group = consumers if consumers is not None and consumers.handlers else None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(service=settings.service_name, level=settings.log_level, json=settings.log_json)
        tracing.setup(settings.service_name)
        kernel = build_kernel(settings, tables, group, state=state, clock=clock or SYSTEM_CLOCK)
        app.state.kernel = kernel
        app.state.verifier = verifier or _jwks_verifier(kernel)
        await run_startup(list(startup), kernel)
        _start(kernel, jobs)
        try:
            yield
        finally:
            await _stop(kernel)

    app = FastAPI(
        title=title,
        version=version,
        description=description,
        lifespan=lifespan,
        telemetry=tracing.fastapi_telemetry(),
    )
    install_problem_handlers(app)
    install_openapi(app)
    app.add_middleware(RequestContextMiddleware, service=settings.service_name)
    app.include_router(health_router())
    if group is not None:
        app.include_router(ops_router(group))
    for router in routers:
        app.include_router(router)
    return app


def build_kernel(
    settings: ServiceSettings, tables: KernelTables, group: ConsumerGroup | None, *, state: Any, clock: Clock
) -> AnyKernel:
    """The kernel's parts for ``settings``, not started yet; attached to its database's sessions."""
    name = settings.service_name
    db = Database(
        settings.database_url,
        pool_size=settings.database_pool_size,
        echo=settings.database_echo,
        service=settings.service_name,
    )
    bus = Bus(
        settings.nats_url,
        name=name,
        namespace=settings.nats_namespace,
        duplicate_window=settings.nats_duplicate_window_seconds,
        replicas=settings.nats_stream_replicas,
        user=settings.nats_user,
        password=settings.nats_password.get_secret_value() if settings.nats_password else None,
    )
    tracing.instrument_database(db.engine)
    relay = OutboxRelay(
        db,
        bus,
        tables,
        service=name,
        batch=settings.outbox_batch,
        poll_seconds=settings.outbox_poll_seconds,
        wire_form=settings.event_wire_form,
    )
    runner = None
    if group is not None:
        options = ConsumerOptions(
            batch=settings.consumer_batch,
            max_deliveries=settings.consumer_max_deliveries,
            ack_wait=settings.consumer_ack_wait_seconds,
            backoff_base=settings.consumer_backoff_seconds,
        )
        runner = ConsumerRunner(group, db=db, bus=bus, tables=tables, options=options)
    kernel: AnyKernel = Kernel(
        settings=settings,
        state=state,
        clock=clock,
        db=db,
        bus=bus,
        tables=tables,
        http=make_http_client(),
        relay=relay,
        consumers=runner,
    )
    kernel.attach()
    return kernel


def _jwks_verifier(kernel: AnyKernel) -> TokenVerifier:
    settings: ServiceSettings = kernel.settings
    return TokenVerifier.from_url(
        settings.jwks_url,
        client=kernel.http,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        cache_seconds=settings.jwks_cache_seconds,
    )


def _start(kernel: AnyKernel, jobs: Sequence[PeriodicJob]) -> None:
    """Bus (in the background), relay, consumers, jobs; then freeze what start-up allocated."""
    kernel.tasks.append(asyncio.create_task(_bring_up_bus(kernel), name="bus-up"))
    kernel.relay.start()
    if kernel.consumers is not None:
        kernel.consumers.start()
    start_jobs(list(jobs), kernel)
    tune_gc(PlatformSettings().gc_threshold)
    log.info("service.started", port=kernel.settings.port)


async def _bring_up_bus(kernel: AnyKernel) -> None:
    """Connect and create the streams, retrying until JetStream answers; then wake the relay."""
    await kernel.bus.connect_in_background()
    delay = 0.2
    while True:
        try:
            await kernel.bus.ensure_streams()
            break
        except Exception as exc:  # noqa: BLE001 - JetStream not ready yet
            log.warning("nats.streams_failed", error=repr(exc))
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)
    kernel.relay.wake()


async def _stop(kernel: AnyKernel) -> None:
    """Consumers, relay, jobs (cancelled), then the connections."""
    log.info("service.stopping")
    if kernel.consumers is not None:
        await kernel.consumers.stop()
    await kernel.relay.stop()
    for task in kernel.tasks:
        task.cancel()
    for task in kernel.tasks:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
    await kernel.bus.close()
    await kernel.http.aclose()
    await kernel.db.dispose()
    tracing.shutdown()
