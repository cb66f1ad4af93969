"""The service app factory: one way for every component to start, serve and stop.

A service hands over its settings, routers, kernel tables and event handlers; the factory wires
the database, the bus, the outbox relay, the consumers, token verification, problem+json errors,
request ids in logs, ``/healthz``, ``/readyz``, ``/metrics`` and, for a service with consumers,
``/ops/dead-letters``.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, Literal

import httpx
import structlog
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from structlog.contextvars import bind_contextvars, clear_contextvars, get_contextvars

from owkernel import deadletters
from owkernel.auth import Principal, TokenVerifier, require_roles
from owkernel.bus import Bus
from owkernel.consumer import ConsumerGroup, ConsumerOptions, ConsumerRunner
from owkernel.db import Database
from owkernel.errors import install_problem_handlers, problem_body
from owkernel.guard import refusal, with_response_headers
from owkernel.http import make_http_client
from owkernel.logs import configure_logging, new_request_id
from owkernel.metrics import HTTP_LATENCY, HTTP_REQUESTS
from owkernel.openapi import install as install_openapi
from owkernel.outbox import OutboxRelay
from owkernel.pagination import CursorParam, LimitParam, Page, decode_id_cursor, encode_cursor
from owkernel.runtime import tune_gc
from owkernel.settings import PlatformSettings, ServiceSettings
from owkernel.tables import KernelTables

log = structlog.get_logger("owkernel.app")


@dataclass
class Kernel:
    """The running parts of one service, kept on ``app.state.kernel``."""

    settings: ServiceSettings
    db: Database
    bus: Bus
    tables: KernelTables
    http: httpx.AsyncClient
    relay: OutboxRelay
    consumers: ConsumerRunner | None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)


BackgroundJob = Callable[[Kernel], Awaitable[None]]


def get_kernel(request: Request) -> Kernel:
    """The running kernel of the app serving ``request``."""
    kernel: Kernel = request.app.state.kernel
    return kernel


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's unit of work: committed before the response is sent, rolled back on error."""
    async with get_kernel(request).db.transaction() as session:
        yield session


async def _kernel_dependency(request: Request) -> Kernel:
    # async on purpose: FastAPI runs a plain ``def`` dependency on its thread pool, a thread hop
    # per request for a lookup (measured at 4% of a service's CPU under load).
    return get_kernel(request)


KernelDep = Annotated[Kernel, Depends(_kernel_dependency)]
# scope="function": the commit happens before the response leaves, so a failed commit is an
# error response, never a 201 for something that was not saved.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


class RequestContextMiddleware:
    """Request id in and out, bound to every log line; access log and metrics; last-resort 500."""

    def __init__(self, app: ASGIApp, *, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = None
        for name, value in scope.get("headers", []):
            if name == b"x-request-id":
                candidate = value.decode("latin-1")
                if 0 < len(candidate) <= 128 and candidate.isprintable():
                    request_id = candidate
                break
        request_id = request_id or new_request_id()
        clear_contextvars()
        bind_contextvars(service=self.service, request_id=request_id)
        started = time.perf_counter()
        status = 500
        response_started = False
        api = scope.get("path", "").startswith("/api/")

        async def send_wrapper(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                headers = with_response_headers(list(message.get("headers", [])), api=api)
                message["headers"] = [*headers, (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            refused = refusal(
                scope.get("headers", []), scope.get("path", ""), scope.get("raw_path"), scope.get("query_string", b"")
            )
            if refused is not None:
                # Before routing: the request is ambiguous, so no route may read it (see owkernel.guard).
                response = JSONResponse(
                    problem_body(400, refused, request_id=request_id),
                    status_code=400,
                    media_type="application/problem+json",
                )
                await response(scope, receive, send_wrapper)
                return
            await self.app(scope, receive, send_wrapper)
        except Exception as exc:
            log.exception("unhandled_error", error=repr(exc))
            if not response_started:
                response = JSONResponse(
                    problem_body(500, "An unexpected error occurred; quote the request id when reporting it."),
                    status_code=500,
                    media_type="application/problem+json",
                )
                await response(scope, receive, send_wrapper)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            path = scope.get("path", "")
            if not path.startswith(("/healthz", "/readyz", "/metrics")):
                HTTP_REQUESTS.labels(self.service, scope.get("method", ""), template, str(status)).inc()
                HTTP_LATENCY.labels(self.service, template).observe(elapsed)
                log.info(
                    "request",
                    method=scope.get("method"),
                    path=path,
                    status=status,
                    ms=round(elapsed * 1000, 2),
                    **{k: v for k, v in get_contextvars().items() if k == "application_no"},
                )
            clear_contextvars()


# Module level: with postponed annotations FastAPI resolves a parameter's type in the module.
AdminDep = Annotated[Principal, Depends(require_roles("admin"))]


class DeadLetterOut(BaseModel):
    """A parked event, without its payload (which may hold personal data)."""

    id: int
    consumer: str
    event_id: str | None
    subject: str
    error: str
    deliveries: int
    created_at: datetime


class ReplayOut(BaseModel):
    id: int
    event_id: str
    subject: str
    outcome: Literal["handled", "already handled"]


def ops_router(group: ConsumerGroup) -> APIRouter:
    """``/ops/dead-letters``: what a service's consumers gave up on, and a replay for each.

    Admin only and not in the OpenAPI: operators call one service's pod (``kubectl port-forward``)
    with an admin token from the gateway, as they read its ``/metrics``.
    """
    router = APIRouter(prefix="/ops/dead-letters", include_in_schema=False)

    @router.get("", response_model=Page[DeadLetterOut])
    async def list_dead_letters(
        kernel: KernelDep, _: AdminDep, limit: LimitParam = 50, cursor: CursorParam = None
    ) -> Page[DeadLetterOut]:
        after = decode_id_cursor(cursor)
        async with kernel.db.transaction() as session:
            rows = await deadletters.page(session, kernel.tables, after=after, limit=limit + 1)
        items = [DeadLetterOut.model_validate(row, from_attributes=True) for row in rows[:limit]]
        more = len(rows) > limit
        return Page(items=items, next_cursor=encode_cursor([items[-1].id]) if more else None)

    @router.post("/{letter_id}/replay", response_model=ReplayOut)
    async def replay_dead_letter(letter_id: int, kernel: KernelDep, principal: AdminDep) -> ReplayOut:
        done = await deadletters.replay(kernel.db, kernel.tables, group, letter_id, by=principal.display)
        return ReplayOut(id=done.id, event_id=done.event_id, subject=done.subject, outcome=done.outcome)

    return router


def health_router() -> APIRouter:
    """``/healthz``, ``/readyz`` and ``/metrics``."""
    router = APIRouter(include_in_schema=False)

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz")
    async def readyz(request: Request) -> Response:
        kernel = get_kernel(request)
        checks: dict[str, str] = {}
        for name, check in (("database", kernel.db.ping), ("nats", kernel.bus.ping)):
            try:
                await asyncio.wait_for(check(), timeout=2.0)
                checks[name] = "ok"
            except Exception as exc:  # noqa: BLE001 - any failure means not ready
                checks[name] = f"unavailable: {type(exc).__name__}"
        if all(v == "ok" for v in checks.values()):
            return JSONResponse({"status": "ready", "checks": checks})
        return JSONResponse(
            problem_body(503, "Not ready.", checks=checks), status_code=503, media_type="application/problem+json"
        )

    @router.get("/metrics")
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router


def create_service_app(
    *,
    settings: ServiceSettings,
    tables: KernelTables,
    routers: Sequence[APIRouter],
    consumers: ConsumerGroup | None = None,
    background: Sequence[BackgroundJob] = (),
    title: str,
    version: str = "1.0.0",
    description: str = "",
    verifier: TokenVerifier | None = None,
    on_startup: Sequence[BackgroundJob] = (),
    extra_state: dict[str, Any] | None = None,
) -> FastAPI:
    """Build a service's FastAPI app on the kernel."""
    name = settings.service_name

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(service=name, level=settings.log_level, json=settings.log_json)
        db = Database(settings.database_url, pool_size=settings.database_pool_size, echo=settings.database_echo)
        bus = Bus(
            settings.nats_url,
            name=name,
            namespace=settings.nats_namespace,
            duplicate_window=settings.nats_duplicate_window_seconds,
            replicas=settings.nats_stream_replicas,
            user=settings.nats_user,
            password=settings.nats_password.get_secret_value() if settings.nats_password else None,
        )
        http = make_http_client()
        relay = OutboxRelay(
            db, bus, tables, service=name, batch=settings.outbox_batch, poll_seconds=settings.outbox_poll_seconds
        )
        runner = None
        if consumers is not None and consumers.handlers:
            runner = ConsumerRunner(
                consumers,
                db=db,
                bus=bus,
                tables=tables,
                options=ConsumerOptions(
                    batch=settings.consumer_batch,
                    max_deliveries=settings.consumer_max_deliveries,
                    ack_wait=settings.consumer_ack_wait_seconds,
                    backoff_base=settings.consumer_backoff_seconds,
                ),
            )
        kernel = Kernel(settings=settings, db=db, bus=bus, tables=tables, http=http, relay=relay, consumers=runner)
        app.state.kernel = kernel
        app.state.verifier = verifier or TokenVerifier.from_url(
            settings.jwks_url,
            client=http,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            cache_seconds=settings.jwks_cache_seconds,
        )
        for key, value in (extra_state or {}).items():
            setattr(app.state, key, value)
        for job in on_startup:
            await job(kernel)

        async def bring_up_bus() -> None:
            await bus.connect_in_background()
            delay = 0.2
            while True:
                try:
                    await bus.ensure_streams()
                    break
                except Exception as exc:  # noqa: BLE001 - JetStream not ready yet
                    log.warning("nats.streams_failed", error=repr(exc))
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 5.0)
            relay.wake()

        kernel.tasks.append(asyncio.create_task(bring_up_bus(), name="bus-up"))
        relay.start()
        if runner is not None:
            runner.start()
        for job in background:
            kernel.tasks.append(asyncio.create_task(_forever(job, kernel), name=getattr(job, "__name__", "job")))
        tune_gc(PlatformSettings().gc_threshold)
        log.info("service.started", port=settings.port)
        try:
            yield
        finally:
            log.info("service.stopping")
            if runner is not None:
                await runner.stop()
            await relay.stop()
            for task in kernel.tasks:
                task.cancel()
            for task in kernel.tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            await bus.close()
            await http.aclose()
            await db.dispose()

    app = FastAPI(title=title, version=version, description=description, lifespan=lifespan)
    install_problem_handlers(app)
    install_openapi(app)
    app.add_middleware(RequestContextMiddleware, service=name)
    app.include_router(health_router())
    if consumers is not None and consumers.handlers:
        app.include_router(ops_router(consumers))
    for router in routers:
        app.include_router(router)
    return app


async def _forever(job: BackgroundJob, kernel: Kernel) -> None:
    """Run a background job; if it fails, log and start it again (a scheduler must not die)."""
    while True:
        try:
            await job(kernel)
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("background_job_failed", job=getattr(job, "__name__", "job"), error=repr(exc))
            await asyncio.sleep(1.0)
