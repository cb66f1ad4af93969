"""Events approval publishes (stream APPROVAL)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from owkernel.contracts._base import EventData, event
from owkernel.contracts.common import ClockKind


@event("approval.task.assigned", summary="A department's task opened, with its due date.")
class TaskAssigned(EventData):
    task_id: str
    application_no: str
    department: str
    lead: bool = False
    stage: int | None = None
    due_date: date
    # True when the due date runs into a year without a published holiday calendar.
    provisional: bool = False


@event("approval.task.decided", summary="A department decided its task, with its opinion.")
class TaskDecided(EventData):
    task_id: str
    application_no: str
    department: str
    decision: Literal["approve", "reject"]
    opinion: str
    decided_by: str
    decided_at: datetime


@event("approval.application.approved", summary="Every department approved the application.")
class ApplicationApproved(EventData):
    application_no: str
    item_code: str
    departments: list[str]
    decided_at: datetime
    project_no: str | None = None
    stage: int | None = None
    working_days_used: int | None = None


@event("approval.application.rejected", summary="One department rejected the application.")
class ApplicationRejected(EventData):
    application_no: str
    item_code: str
    department: str
    reason: str
    decided_at: datetime
    project_no: str | None = None
    stage: int | None = None


@event("approval.certificate.issued", summary="An electronic certificate was issued for an approved application.")
class CertificateIssued(EventData):
    certificate_no: str
    application_no: str
    holder_id_number: str
    holder_name: str
    item_code: str
    item_name: str
    issued_on: date
    verification_code: str


@event("approval.card.raised", summary="A clock turned yellow (near its deadline) or red (overdue).")
class CardRaised(EventData):
    card_id: str
    clock_id: str
    clock_kind: ClockKind
    # The thing the clock runs for: a task id, "APP-NO", "APP-NO#stage", a consultation id,
    # a rectification id.
    ref: str
    department: str | None = None
    application_no: str | None = None
    color: Literal["yellow", "red"]
    due_date: date
    raised_at: datetime
    project_no: str | None = None
    stage: int | None = None
    # For a task clock: the task (also in ``ref``); lets consumers skip parsing refs.
    task_id: str | None = None
    # The hall of the application it runs for, where known (the hall that accepted it).
    hall: str | None = None


@event(
    "approval.clock.opened",
    summary="The supervision engine started a clock (task, stage, application, consultation, rectification).",
)
class ClockOpened(EventData):
    clock_id: str
    clock_kind: ClockKind
    ref: str
    department: str | None = None
    application_no: str | None = None
    started_on: date
    due_date: date
    working_days: int
    provisional: bool = False
    project_no: str | None = None
    stage: int | None = None
    # The hall of the application it runs for, where known (the hall that accepted it).
    hall: str | None = None


@event("approval.clock.closed", summary="A clock stopped: its task, reply or rectification is done.")
class ClockClosed(EventData):
    clock_id: str
    clock_kind: ClockKind
    ref: str
    on_time: bool
    closed_at: datetime
    department: str | None = None
    application_no: str | None = None
    due_date: date | None = None
    # Why it stopped: approved, rejected, cancelled, replied, rectified, annulled.
    outcome: str | None = None
    # The hall of the application it runs for, where known (the hall that accepted it).
    hall: str | None = None


@event(
    "approval.clock.rescheduled",
    summary="A clock's due date moved: suspension ended, extension granted, or the calendar of a year was entered.",
)
class ClockRescheduled(EventData):
    clock_id: str
    clock_kind: ClockKind
    ref: str
    department: str | None = None
    application_no: str | None = None
    due_date: date
    provisional: bool = False
    reason: Literal["suspension", "extension", "calendar"]
    # Working days added by suspensions and by extensions so far (totals, not this change).
    suspended_days: int = 0
    extension_days: int = 0
    at: datetime


@event("approval.task.cancelled", summary="An open task was closed without a decision (another department rejected).")
class TaskCancelled(EventData):
    task_id: str
    application_no: str
    department: str
    reason: str
    cancelled_at: datetime
