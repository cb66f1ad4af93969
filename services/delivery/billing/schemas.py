"""API shapes of the finance bill."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class ZoneLine(BaseModel):
    """Shipments and fees of one carrier in one zone."""

    zone: str
    shipments: int
    fee_fen: int


class CarrierBill(BaseModel):
    """What finance owes one carrier for the month."""

    carrier: str
    carrier_name: str
    shipments: int
    outbound: int
    inbound: int
    total_fee_fen: int
    by_zone: list[ZoneLine] = Field(default_factory=list)


class BillOut(BaseModel):
    """The month's bill, per carrier; applicants are charged nothing."""

    month: str
    timezone: str
    period_start: datetime
    period_end: datetime
    payer: Literal["finance"] = "finance"
    applicant_charge_fen: int = 0
    items: list[CarrierBill]
    total_shipments: int
    total_fee_fen: int
