"""The simulated courier companies: the API a real carrier offers its customers, over HTTP.

A customer (delivery) books a waybill for a parcel with ``POST /{carrier}/v1/waybills``,
authenticated with the carrier's API key and carrying an ``Idempotency-Key`` (the same key again
answers the first booking, so a customer whose own transaction rolled back and is redone books
nothing twice), and may cancel it before pickup. The carrier then plays the parcel's journey,
posting signed status webhooks to the customer (journey.py). It stands for the partners in the
local run, the tests and the bench only: it refuses to start unless ``COURIERS_SIM_ALLOWED``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any, Literal

from fastapi import FastAPI, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from owkernel.http import make_http_client
from simulators.couriers.journey import Dispatcher, plan_for
from simulators.couriers.settings import CouriersSimSettings
from simulators.couriers.store import Parcel, Store

# Tracking numbers look like each carrier's: a prefix and twelve digits.
PREFIXES = {"sim-express": "SE", "sim-post": "SP"}


class SimulatorNotAllowedError(RuntimeError):
    """The simulator was asked to start where it must not run."""


class WaybillBody(BaseModel):
    """What a customer tells the carrier about one parcel."""

    shipment_id: str = Field(min_length=1, max_length=64)
    direction: Literal["outbound", "inbound"]
    attempt: int = Field(ge=1)
    region_code: str = Field(min_length=1, max_length=12)
    address_detail: str = Field(min_length=1, max_length=300)
    contact_name: str = Field(min_length=1, max_length=120)
    contact_phone: str = Field(min_length=1, max_length=40)


def _problem(status: int, detail: str, code: str) -> JSONResponse:
    return JSONResponse(
        {"type": "about:blank", "title": detail, "status": status, "detail": detail, "code": code},
        status_code=status,
        media_type="application/problem+json",
    )


def _waybill(parcel: Parcel) -> dict[str, Any]:
    return {
        "carrier": parcel.carrier,
        "tracking_no": parcel.tracking_no,
        "status": parcel.status,
        "state": parcel.state,
        "plan": list(parcel.plan),
        # The webhook calls of the next report that failed so far, and the last error.
        "attempts": parcel.attempts,
        "last_error": parcel.last_error,
    }


def create_app(settings: CouriersSimSettings | None = None) -> FastAPI:
    """Build the simulated couriers (``uvicorn --factory simulators.couriers.app:create_app``)."""
    settings = settings or CouriersSimSettings()
    if not settings.allowed:
        raise SimulatorNotAllowedError("the simulated couriers run only where COURIERS_SIM_ALLOWED=true")
    keys = {carrier: key.get_secret_value().encode() for carrier, key in settings.api_keys.items()}
    carriers = set(keys) & set(settings.webhook_secrets)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = await Store.open(settings.database_path)
        http = make_http_client()
        dispatcher = Dispatcher(store=store, http=http, settings=settings)
        app.state.store, app.state.dispatcher = store, dispatcher
        task = asyncio.create_task(dispatcher.run(), name="couriers") if settings.report else None
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await http.aclose()
            await store.close()

    app = FastAPI(title="Simulated couriers", lifespan=lifespan)

    def refused(carrier: str, authorization: str | None) -> JSONResponse | None:
        """A problem unless the caller holds this carrier's API key."""
        if carrier not in carriers:
            return _problem(404, f"No carrier {carrier!r} here.", "unknown_carrier")
        scheme, _, key = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(key.strip().encode(), keys[carrier]):
            return _problem(401, "A valid API key of this carrier is required.", "bad_api_key")
        return None

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/{carrier}/v1/waybills", status_code=201)
    async def book(
        carrier: str,
        body: WaybillBody,
        request: Request,
        idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
        authorization: Annotated[str | None, Header()] = None,
    ) -> Any:
        if problem := refused(carrier, authorization):
            return problem
        if not idempotency_key:
            return _problem(400, "An Idempotency-Key header is required.", "idempotency_key_required")
        tracking_no = f"{PREFIXES.get(carrier, carrier[:2].upper())}{secrets.randbelow(10**12):012d}"
        parcel = await request.app.state.store.book(
            carrier=carrier,
            key=idempotency_key,
            tracking_no=tracking_no,
            plan=plan_for(address_detail=body.address_detail, attempt=body.attempt),
            first_due=time.time() + settings.pickup_seconds,
        )
        request.app.state.dispatcher.wake()
        # The same key again: the first booking, answered as a replay (200, not 201).
        return JSONResponse(_waybill(parcel), status_code=201 if parcel.tracking_no == tracking_no else 200)

    @app.get("/{carrier}/v1/waybills/{tracking_no}")
    async def waybill(
        carrier: str, tracking_no: str, request: Request, authorization: Annotated[str | None, Header()] = None
    ) -> Any:
        if problem := refused(carrier, authorization):
            return problem
        parcel = await request.app.state.store.get(carrier=carrier, tracking_no=tracking_no)
        if parcel is None:
            return _problem(404, "No such waybill.", "unknown_waybill")
        return _waybill(parcel)

    @app.post("/{carrier}/v1/waybills/{tracking_no}/cancel")
    async def cancel(
        carrier: str, tracking_no: str, request: Request, authorization: Annotated[str | None, Header()] = None
    ) -> Any:
        if problem := refused(carrier, authorization):
            return problem
        store: Store = request.app.state.store
        if tracking_no in request.app.state.dispatcher.sending:
            return _problem(409, "The courier is picking the parcel up.", "already_picked_up")
        if await store.cancel(carrier=carrier, tracking_no=tracking_no):
            return {"carrier": carrier, "tracking_no": tracking_no, "state": "cancelled"}
        if await store.get(carrier=carrier, tracking_no=tracking_no) is None:
            return _problem(404, "No such waybill.", "unknown_waybill")
        return _problem(409, "The courier already picked the parcel up.", "already_picked_up")

    return app
