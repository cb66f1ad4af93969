"""The carriers' API: book a waybill (idempotent), read it, cancel it before pickup.

The routes say what they do in comments: a docstring would become the operation's description in
the simulator's OpenAPI document, which stays as it was.
"""

from __future__ import annotations

import secrets
import time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from simulators.couriers.carriers import CarriersDep, problem
from simulators.couriers.journey import plan_for
from simulators.couriers.store import Parcel

# Tracking numbers look like each carrier's: a prefix and twelve digits.
PREFIXES = {"sim-express": "SE", "sim-post": "SP"}

router = APIRouter()


class WaybillBody(BaseModel):
    """What a customer tells the carrier about one parcel."""

    shipment_id: str = Field(min_length=1, max_length=64)
    direction: Literal["outbound", "inbound"]
    attempt: int = Field(ge=1)
    region_code: str = Field(min_length=1, max_length=12)
    address_detail: str = Field(min_length=1, max_length=300)
    contact_name: str = Field(min_length=1, max_length=120)
    contact_phone: str = Field(min_length=1, max_length=40)


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


@router.post("/{carrier}/v1/waybills", status_code=201)
async def book(
    carrier: str,
    body: WaybillBody,
    carriers: CarriersDep,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
    authorization: Annotated[str | None, Header()] = None,
) -> Any:
    # Book a waybill; the same Idempotency-Key again answers the first booking.
    if refusal := carriers.refused(carrier, authorization):
        return refusal
    if not idempotency_key:
        return problem(400, "An Idempotency-Key header is required.", "idempotency_key_required")
    tracking_no = f"{PREFIXES.get(carrier, carrier[:2].upper())}{secrets.randbelow(10**12):012d}"
    parcel = await carriers.book.book(
        carrier=carrier,
        key=idempotency_key,
        tracking_no=tracking_no,
        plan=plan_for(address_detail=body.address_detail, attempt=body.attempt),
        first_due=time.time() + carriers.settings.pickup_seconds,
    )
    carriers.journeys.wake()
    # The same key again: the first booking, answered as a replay (200, not 201).
    return JSONResponse(_waybill(parcel), status_code=201 if parcel.tracking_no == tracking_no else 200)


@router.get("/{carrier}/v1/waybills/{tracking_no}")
async def waybill(
    carrier: str, tracking_no: str, carriers: CarriersDep, authorization: Annotated[str | None, Header()] = None
) -> Any:
    # One waybill as the carrier sees it.
    if refusal := carriers.refused(carrier, authorization):
        return refusal
    parcel = await carriers.book.get(carrier=carrier, tracking_no=tracking_no)
    if parcel is None:
        return problem(404, "No such waybill.", "unknown_waybill")
    return _waybill(parcel)


@router.post("/{carrier}/v1/waybills/{tracking_no}/cancel")
async def cancel(
    carrier: str, tracking_no: str, carriers: CarriersDep, authorization: Annotated[str | None, Header()] = None
) -> Any:
    # Cancel a waybill the courier has not picked up yet.
    if refusal := carriers.refused(carrier, authorization):
        return refusal
    if tracking_no in carriers.journeys.sending:
        return problem(409, "The courier is picking the parcel up.", "already_picked_up")
    if await carriers.book.cancel(carrier=carrier, tracking_no=tracking_no):
        return {"carrier": carrier, "tracking_no": tracking_no, "state": "cancelled"}
    if await carriers.book.get(carrier=carrier, tracking_no=tracking_no) is None:
        return problem(404, "No such waybill.", "unknown_waybill")
    return problem(409, "The courier already picked the parcel up.", "already_picked_up")
