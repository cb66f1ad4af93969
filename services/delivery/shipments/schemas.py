"""API shapes of shipments."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from services.delivery.regions.schemas import AddressIn


class ShipmentEventOut(BaseModel):
    """One status report in a shipment's history (``applied`` false: repeated or late)."""

    status: str
    at: datetime
    recorded_at: datetime
    source: str
    applied: bool
    note: str | None = None


class AddressOut(BaseModel):
    """Where a shipment goes (outbound) or comes from (inbound)."""

    region_code: str
    detail: str
    recipient: str
    phone: str


class ShipmentOut(BaseModel):
    """A shipment as the applicant and staff see it."""

    shipment_id: str
    application_no: str
    direction: str
    attempt: int
    carrier: str | None
    carrier_name: str | None
    tracking_no: str | None
    status: str
    address: AddressOut
    zone: str
    fee_fen: int
    fee_paid_by: Literal["finance"] = "finance"
    certificate_no: str | None
    failure_reason: str | None
    created_at: datetime
    updated_at: datetime
    delivered_at: datetime | None
    events: list[ShipmentEventOut]


class ReshipIn(BaseModel):
    """Send the certificate again, optionally to a corrected address."""

    address: AddressIn | None = None


class InboundIn(BaseModel):
    """The applicant mails paper materials in: the sender's address (the hall is the recipient)."""

    application_no: str = Field(min_length=1, max_length=40)
    sender: AddressIn


class ReceivedIn(BaseModel):
    """A clerk records that mailed-in materials arrived."""

    note: str | None = Field(default=None, max_length=300)
