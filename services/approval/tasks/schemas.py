"""Request and response shapes of tasks."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

CardColor = Literal["yellow", "red"]


class TaskOut(BaseModel):
    """A department's task as the back office lists it."""

    task_id: str
    application_no: str
    department: str
    stage: int | None
    due_date: date
    card: CardColor | None
    status: Literal["open", "approved", "rejected", "cancelled"]
    lead: bool
    item_code: str
    item_name: str
    applicant_name: str
    project_no: str | None
    started_on: date
    # True when the due date runs into a year without a published holiday calendar.
    provisional: bool
    # True while the applicant keeps the file waiting (the clock is stopped).
    suspended: bool
    clock_id: str
    application_status: str
    opinion: str | None
    decided_by: str | None
    decided_at: datetime | None
    # The hall that accepted the application.
    hall: str = "CITY"


class DecisionIn(BaseModel):
    """An approver's decision; a rejection must give its reason."""

    decision: Literal["approve", "reject"]
    opinion: str = Field(default="", max_length=4000)


class DecisionOut(BaseModel):
    """The decided task and what it did to the application."""

    task: TaskOut
    application_no: str
    application_status: str
    certificate_no: str | None = None
