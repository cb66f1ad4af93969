"""Response shapes of supervision."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel

from services.approval.clocks.schemas import ClockOut


class CardOut(BaseModel):
    """A yellow or red card with its clock."""

    card_id: str
    color: Literal["yellow", "red"]
    clock_kind: str
    ref: str
    department: str | None
    application_no: str | None
    project_no: str | None
    stage: int | None
    task_id: str | None
    due_date: date
    raised_at: datetime
    clock: ClockOut
    # The hall of the clock's application ("CITY" when none).
    hall: str = "CITY"


class DepartmentSummary(BaseModel):
    """A department's supervision figures (or a hall's, with ``by=hall``)."""

    department: str | None
    # With ``by=hall``: the hall these figures are of; with ``hall=``: that hall.
    hall: str | None = None
    red_cards: int
    yellow_cards: int
    open_tasks: int
    overdue_tasks: int
    tasks_closed: int
    tasks_on_time: int
    on_time_rate: float | None
    consultations: int
    consultations_replied_on_time: int
    consultation_on_time_rate: float | None
    open_rectifications: int
    overdue_rectifications: int
    # Deferred materials (容缺) past their deadline and still missing: the applicant's delay, not
    # counted against the department.
    applicant_delays: int = 0


class SummaryOut(BaseModel):
    """Figures per department, and for the whole hall."""

    as_of: date
    red_cards: int
    yellow_cards: int
    departments: list[DepartmentSummary]


class RecordOut(BaseModel):
    """A supervision record (an overdue deferred material, a failed delivery)."""

    id: int
    kind: str
    application_no: str | None
    ref: str | None
    department: str | None
    detail: dict[str, Any]
    at: datetime


class ScanOut(BaseModel):
    """What a scan raised."""

    as_of: date
    yellow: int
    red: int


class AttemptOut(BaseModel):
    """One delivery attempt of a reminder."""

    attempt: int
    adapter: str
    at: datetime
    ok: bool
    status_code: int | None
    error: str | None
    duration_ms: int


class NotificationOut(BaseModel):
    """A reminder to staff, with every delivery attempt."""

    id: int
    kind: str
    department: str | None
    task_id: str | None
    application_no: str | None
    payload: dict[str, Any]
    status: Literal["pending", "sent", "failed"]
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    history: list[AttemptOut]
