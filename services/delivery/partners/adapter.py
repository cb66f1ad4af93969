"""The partner adapter interface: what delivery asks of any courier company."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class WaybillRequest:
    """What a courier needs to carry one parcel."""

    shipment_id: str
    application_no: str
    direction: Literal["outbound", "inbound"]
    attempt: int
    # The far end: the recipient (outbound) or the sender (inbound); the near end is the hall.
    region_code: str
    address_detail: str
    contact_name: str
    contact_phone: str


@dataclass(frozen=True)
class Waybill:
    """The partner's answer: its tracking number for the parcel."""

    tracking_no: str


class CourierAdapter(Protocol):
    """One courier partner's integration.

    Methods receive the caller's session so an adapter that keeps local state could write it in
    the same transaction as the shipment; the HTTP adapter of a company (couriers.py) ignores it.
    """

    carrier: str

    async def create_waybill(self, session: AsyncSession, request: WaybillRequest) -> Waybill:
        """Book the parcel; return its tracking number."""
        ...

    async def cancel(self, session: AsyncSession, tracking_no: str) -> bool:
        """Cancel a waybill not yet picked up; False when it is too late."""
        ...
