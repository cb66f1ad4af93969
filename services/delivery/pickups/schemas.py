"""API shapes of window pickups."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class PickupOut(BaseModel):
    """A certificate at the window."""

    pickup_id: str
    application_no: str
    certificate_no: str | None
    window: str
    reason: str
    status: str
    created_at: datetime
    completed_at: datetime | None
    clerk: str | None
    collector_name: str | None
    collector_id_masked: str | None


class CompleteIn(BaseModel):
    """What the clerk checked: the identity document of the person collecting."""

    collector_id_number: str = Field(min_length=6, max_length=40)
    collector_name: str | None = Field(default=None, max_length=200)
