"""Request and response shapes of the calendar."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field


class CalendarIn(BaseModel):
    """A year's arrangement: statutory holidays, and weekend days made working days (调休)."""

    holidays: list[date] = Field(default_factory=list, max_length=366)
    workdays: list[date] = Field(default_factory=list, max_length=120)


class SpecialDay(BaseModel):
    """A holiday or an adjusted working day, with its name when known."""

    date: date
    name: str | None = None


class CalendarOut(BaseModel):
    """A year's working-day calendar, or the plain statement that it has no data."""

    year: int
    has_data: bool
    source: Literal["package", "admin"] | None
    holidays: list[date]
    workdays: list[date]
    named_days: list[SpecialDay]
    updated_at: datetime | None
    updated_by: str | None
    note: str
    # After a PUT: how many open clocks got a new due date.
    recomputed_clocks: int | None = None
