"""Appointment request and response shapes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from owkernel.halls import CITY_HALL, HallCode
from services.intake.applications.schemas import AddressIn

SlotKind = Literal["regular", "extended", "lunch", "door_to_door"]
WindowKind = Literal["investment", "commercial", "general"]
HHMM = r"^([01]\d|2[0-3]):[0-5]\d$"
SLOT = r"^\d{4}-\d{2}-\d{2}T([01]\d|2[0-3]):[0-5]\d$"


class SlotOut(BaseModel):
    """A slot of a window on one day."""

    slot: str
    hall: str
    window: str
    date: date
    start: str
    end: str
    kind: str
    capacity: int
    booked: int
    available: int


class SlotOpen(BaseModel):
    """``POST /api/v1/appointments/slots``: a window opens (or resizes, or closes with 0) a slot."""

    model_config = ConfigDict(extra="forbid")

    # The hall whose window opens it; by default the clerk's own.
    hall: HallCode | None = None
    window: WindowKind
    date: date
    start: str = Field(pattern=HHMM)
    end: str = Field(pattern=HHMM)
    kind: SlotKind
    capacity: int = Field(ge=0, le=1000)

    @model_validator(mode="after")
    def _ordered(self) -> SlotOpen:
        if self.end <= self.start:
            raise ValueError("a slot ends after it starts")
        return self


class AppointmentIn(BaseModel):
    """``POST /api/v1/appointments``."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    # The hall whose window is booked (GET /api/v1/halls); the city's by default.
    hall: HallCode = CITY_HALL
    window: WindowKind
    slot: str = Field(pattern=SLOT)
    kind: SlotKind
    application_no: str | None = Field(default=None, max_length=32)
    item_code: str | None = Field(default=None, max_length=40)
    address: AddressIn | None = None
    phone: str | None = Field(default=None, pattern=r"^\+?[0-9][0-9 -]{4,19}$")
    applicant_id_number: str | None = Field(default=None, min_length=15, max_length=18)
    applicant_name: str | None = Field(default=None, min_length=1, max_length=200)

    @model_validator(mode="after")
    def _door_to_door_needs_address(self) -> AppointmentIn:
        if self.kind == "door_to_door" and self.address is None:
            raise ValueError("door-to-door service needs the address to come to")
        return self


class AppointmentOut(BaseModel):
    """A booking."""

    appointment_id: str
    hall: str
    window: str
    slot: str
    date: date
    start: str
    end: str
    kind: str
    status: Literal["booked", "cancelled", "attended"]
    id_number: str
    name: str
    application_no: str | None
    item_code: str | None
    address: dict[str, str] | None
    created_at: datetime
    cancelled_at: datetime | None
    attended_at: datetime | None
