"""Request and response shapes of clocks."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field


class LedgerEntryOut(BaseModel):
    """One line of a clock's ledger."""

    kind: Literal["suspension", "extension", "calendar"]
    reason: str
    from_date: date | None
    to_date: date | None
    working_days: int
    due_before: date
    due_after: date
    at: datetime
    by: str | None


class ClockOut(BaseModel):
    """A supervision clock."""

    clock_id: str
    kind: Literal["task", "stage", "application", "consultation", "rectification"]
    ref: str
    department: str | None
    application_no: str | None
    project_no: str | None
    stage: int | None
    task_id: str | None
    started_on: date
    working_days: int
    suspended_days: int
    extension_days: int
    due_date: date
    yellow_on: date
    provisional: bool
    status: Literal["running", "suspended", "closed"]
    card: Literal["yellow", "red"] | None
    opened_at: datetime
    closed_at: datetime | None
    on_time: bool | None
    outcome: str | None


class ClockDetailOut(ClockOut):
    """A clock with its ledger."""

    ledger: list[LedgerEntryOut]


class ExtensionIn(BaseModel):
    """More working days for a clock, and why."""

    working_days: int = Field(ge=1, le=365)
    reason: str = Field(min_length=1, max_length=1000)
