"""API shapes of courier partners."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class PartnerOut(BaseModel):
    """A partner under contract and whether it takes new waybills."""

    carrier: str
    name: str
    priority: int
    provinces: list[str]
    tariff_fen: dict[str, int]
    available: bool
    note: str | None = None
    updated_by: str | None = None
    updated_at: datetime | None = None


class AvailabilityIn(BaseModel):
    """Switch a partner on or off (an outage, a strike, a contract pause)."""

    available: bool
    note: str | None = Field(default=None, max_length=300)


class AvailabilityOut(PartnerOut):
    """The partner after the change, and how many waiting shipments it booked."""

    booked_pending: int = 0
