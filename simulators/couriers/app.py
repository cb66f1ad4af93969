"""The simulated courier companies: the API a real carrier offers its customers, over HTTP.

A customer (delivery) books a waybill for a parcel with ``POST /{carrier}/v1/waybills``,
authenticated with the carrier's API key and carrying an ``Idempotency-Key`` (the same key again
answers the first booking, so a customer whose own transaction rolled back and is redone books
nothing twice), and may cancel it before pickup. The carrier then plays the parcel's journey,
posting signed status webhooks to the customer (journey.py). It stands for the partners in the
local run, the tests and the bench only: it refuses to start unless ``COURIERS_SIM_ALLOWED``.

The endpoints live beside this factory: ``waybills`` (book, read, cancel); ``carriers`` holds the
state and the API-key check every call goes through.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
from fastapi import APIRouter, FastAPI

from owkernel.tracing import http_trace_configs
from simulators.couriers import waybills
from simulators.couriers.carriers import Carriers
from simulators.couriers.journey import Dispatcher
from simulators.couriers.settings import CouriersSimSettings
from simulators.couriers.store import Store


class SimulatorNotAllowedError(RuntimeError):
    """The simulator was asked to start where it must not run."""


health = APIRouter()


@health.get("/healthz")
async def healthz() -> dict[str, str]:
    # Liveness and readiness: the process holds everything it needs.
    return {"status": "ok"}


def create_app(settings: CouriersSimSettings | None = None) -> FastAPI:
    """Build the simulated couriers (``uvicorn --factory simulators.couriers.app:create_app``)."""
    settings = settings or CouriersSimSettings()
    if not settings.allowed:
        raise SimulatorNotAllowedError("the simulated couriers run only where COURIERS_SIM_ALLOWED=true")
    app = FastAPI(title="Simulated couriers", lifespan=_lifespan)
    app.state.carriers = Carriers(settings)
    app.include_router(health)
    app.include_router(waybills.router)
    return app


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """The book opened and, when the carriers report, the journeys played while the app serves."""
    carriers: Carriers = app.state.carriers
    settings = carriers.settings
    store = await Store.open(settings.database_path)
    # aiohttp itself, not httpx over it (owkernel.http): one kind of call to one address, and
    # httpx's request and response models cost about as much CPU again as the call below them.
    # The kernel client's limits: its pool, idle keep-alive and timeouts, no cookies, its tracing.
    http = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=200, keepalive_timeout=5.0),
        timeout=aiohttp.ClientTimeout(total=10.0, connect=3.0),
        cookie_jar=aiohttp.DummyCookieJar(),
        trace_configs=http_trace_configs(),
    )
    carriers.store, carriers.dispatcher = store, Dispatcher(store=store, http=http, settings=settings)
    task = asyncio.create_task(carriers.dispatcher.run(), name="couriers") if settings.report else None
    try:
        yield
    finally:
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await http.close()
        await store.close()
