"""Request and response shapes of inspection findings."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from owkernel.halls import CITY_HALL, HallCode


class InspectionIn(BaseModel):
    """A finding against a window or a department."""

    department: str = Field(min_length=1, max_length=80)
    window: str | None = Field(default=None, max_length=40)
    # The hall inspected (intake's registry of halls); the city's by default.
    hall: HallCode = CITY_HALL
    problem: str = Field(min_length=1, max_length=4000)
    penalty: str | None = Field(default=None, max_length=2000)
    penalty_points: int | None = Field(default=None, ge=0, le=100, description="points off the assessment")
    inspected_on: date | None = None
    rectify: bool = True


class InspectionOut(BaseModel):
    """A published finding (the inspector's name is not part of the publication)."""

    inspection_id: str
    department: str
    window: str | None = None
    hall: str = CITY_HALL
    problem: str
    penalty: str | None = None
    penalty_points: int
    inspected_on: date
    recorded_at: datetime
    rectification_id: str | None = None
    rectification_status: str | None = None
